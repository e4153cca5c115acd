import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { authenticatedPrometheus } from '../support/authenticated-prometheus.ts';
import { kube } from '../support/cluster.ts';
import { recordHistory } from '../support/histories.ts';
import { startLoad } from '../support/load.ts';
import { canaryMetricsReady } from '../support/prometheus.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';
import { setupScenario } from '../support/scenario.ts';
import { startTestWorker } from '../support/worker.ts';
import type { TestWorker } from '../support/worker.ts';

let worker: TestWorker;
let hooks: WebhookReceiver;

before(async () => {
  worker = await startTestWorker('template');
  hooks = await startWebhookReceiver();
  hooks.handle('/metrics-ready', canaryMetricsReady);
});
after(async () => {
  await hooks.close();
  await worker.stop();
});

test('a MetricTemplate query with templateVariables runs against Prometheus with the Secret token', async () => {
  const prometheus = await authenticatedPrometheus(['Bearer s3cret-token']);
  const scenario = await setupScenario(worker, 'template', {
    interval: '1s',
    iterations: 3,
    threshold: 5,
    metrics: [
      {
        name: 'root-request-rate',
        templateRef: { name: 'request-rate' },
        templateVariables: { path: 'root' },
        thresholdRange: { min: 1 },
        interval: '30s',
      },
    ],
    // The acceptance hook waits for the first scrape of the green pods, so no tick judges a scrape
    // that has not happened yet.
    webhooks: [
      { name: 'acceptance-test', type: 'pre-rollout', url: hooks.url('/metrics-ready'), timeout: '25s' },
    ],
  });
  const ns = scenario.namespace;
  const load = startLoad('podinfo-canary', ns, '/', 30);
  try {
    const { core, config } = kube();
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'prom-auth' }, stringData: { token: 's3cret-token' } },
    });
    await config.makeApiClient(k8s.CustomObjectsApi).createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural: 'metrictemplates',
      body: {
        apiVersion: 'flagger.app/v1beta1',
        kind: 'MetricTemplate',
        metadata: { name: 'request-rate', namespace: ns },
        spec: {
          provider: { type: 'prometheus', address: prometheus.url, secretRef: { name: 'prom-auth' } },
          query: `sum(rate(http_request_duration_seconds_count{kubernetes_namespace="{{ namespace }}", kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", path="{{ variables.path }}"}[{{ interval }}]))`,
        },
      },
    });
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    const result = await handle.result();
    await recordHistory('metric-template', handle);
    assert.equal(result.outcome, 'promoted', result.reason);
    assert.ok(prometheus.seen.length >= 3);
    assert.ok(
      prometheus.seen.every((s) => s.authorization === 'Bearer s3cret-token'),
      'the Secret token was sent',
    );
    assert.match(
      prometheus.seen[0]?.query ?? '',
      new RegExp(`kubernetes_namespace="${ns}".*path="root".*\\[30s\\]`),
    );
  } finally {
    await load.stop();
    await scenario.remove();
    await prometheus.close();
  }
});
