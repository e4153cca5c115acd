// The worker's MetricTemplate informer on the real API server: it answers once synced, follows
// changes, and answers nothing for a namespace it does not cover (the tick then reads the API server).
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../../stack/processes.ts';
import { MetricTemplateCache } from '../../worker/metric-template-cache.ts';
import { ensureCrds } from '../support/canaries.ts';
import { kube, testNamespace } from '../support/cluster.ts';

const quiet = { info: () => undefined, warn: () => undefined };
let ns: { name: string; remove: () => Promise<void> };
before(async () => {
  await ensureCrds();
  ns = await testNamespace('mt-cache');
});
after(async () => {
  await ns?.remove();
});

function template(query: string): Record<string, unknown> {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'MetricTemplate',
    metadata: { name: 'error-rate', namespace: ns.name },
    spec: { provider: { type: 'prometheus', address: 'http://127.0.0.1:9090' }, query },
  };
}

test('the cache serves MetricTemplates once synced and follows their changes', async () => {
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  const at = { group: 'flagger.app', version: 'v1beta1', namespace: ns.name, plural: 'metrictemplates' };
  await custom.createNamespacedCustomObject({ ...at, body: template('sum(up)') });
  const cache = new MetricTemplateCache({ kubeconfig: kube().config, namespace: ns.name, log: quiet });
  assert.equal(cache.cached(ns.name, 'error-rate'), undefined, 'nothing before it has listed');
  await cache.start();
  try {
    const spec = () =>
      (cache.cached(ns.name, 'error-rate') as { spec?: { query?: string } } | undefined)?.spec;
    assert.equal(spec()?.query, 'sum(up)');
    await custom.patchNamespacedCustomObject(
      { ...at, name: 'error-rate', body: { spec: { query: 'sum(up) by (job)' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await waitFor('the cache to see the change', async () => spec()?.query === 'sum(up) by (job)', 10_000);
    assert.equal(cache.cached('another-namespace', 'error-rate'), undefined, 'a namespace it does not watch');
    await custom.deleteNamespacedCustomObject({ ...at, name: 'error-rate' });
    await waitFor('the cache to see the deletion', async () => spec() === undefined, 10_000);
  } finally {
    await cache.stop();
  }
  assert.equal(cache.cached(ns.name, 'error-rate'), undefined, 'stopped: the API server answers');
});
