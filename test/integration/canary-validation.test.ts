import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { after, before, test } from 'node:test';
import { createKubernetesActivities } from '../../activities/kubernetes.ts';
import { reconcileCanary } from '../../worker/reconcile.ts';
import type { ReconcileDeps } from '../../worker/reconcile.ts';
import { kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { canaryEvents, canaryObject, ensureCrds, readCanaryStatus } from '../support/canaries.ts';
import { recordHistory } from '../support/histories.ts';
import { fastOptions } from '../support/scenario.ts';
import { startTestWorker } from '../support/worker.ts';
import type { TestWorker } from '../support/worker.ts';
import { waitFor } from '../../stack/processes.ts';

let worker: TestWorker;
let namespace: { name: string; remove: () => Promise<void> };

before(async () => {
  worker = await startTestWorker('validation');
  await ensureCrds();
  namespace = await testNamespace('invalid');
});
after(async () => {
  await namespace.remove();
  await worker.stop();
});

function withSpec(
  name: string,
  ns: string,
  patch: (spec: Record<string, unknown>) => void,
): Record<string, unknown> {
  const object = canaryObject(name, ns, { interval: '300ms', iterations: 2 });
  patch(object.spec as Record<string, unknown>);
  return object;
}

test('each Canary Cutover cannot run gets a condition and a Warning event naming the field and the fix; a valid one beside them rolls out', async () => {
  const ns = namespace.name;
  const { apps, config } = kube();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const kubernetes = createKubernetesActivities(config);
  const deps: ReconcileDeps = {
    client: worker.client,
    taskQueue: worker.taskQueue,
    kubernetes,
    minInterval: '100ms',
    rolloutOptions: fastOptions,
  };
  for (const name of ['good', 'istio', 'weights', 'missing', 'duration']) {
    await apps.createNamespacedDeployment({ namespace: ns, body: podinfoDeployment(name, ns, 1) });
  }
  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['istio', withSpec('istio', ns, (s) => (s.provider = 'istio')), /spec\.provider/],
    [
      'weights',
      withSpec('weights', ns, (s) => {
        const analysis = s.analysis as Record<string, unknown>;
        delete analysis.iterations;
        analysis.stepWeight = 10;
        analysis.maxWeight = 50;
      }),
      /spec\.analysis\.stepWeight/,
    ],
    [
      'missing',
      withSpec('missing', ns, (s) => ((s.targetRef as Record<string, unknown>).name = 'no-such-deployment')),
      /spec\.targetRef/,
    ],
    [
      'duration',
      withSpec('duration', ns, (s) => ((s.analysis as Record<string, unknown>).interval = '1m30')),
      /spec\.analysis\.interval/,
    ],
  ];
  const objects = [
    ...invalid.map(([, object]) => object),
    canaryObject('good', ns, { interval: '300ms', iterations: 2 }),
  ];
  for (const body of objects) {
    await custom.createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural: 'canaries',
      body,
    });
  }
  const stored = async (name: string) =>
    custom.getNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural: 'canaries',
      name,
    });

  // The watcher sees them all; the broken ones in between the good one's steps.
  const outcomes = new Map<string, string>();
  for (const [name] of invalid) outcomes.set(name, (await reconcileCanary(await stored(name), deps)).kind);
  const init = await reconcileCanary(await stored('good'), deps);
  assert.equal(init.kind, 'initializing');
  assert.deepEqual(Object.fromEntries(outcomes), {
    istio: 'invalid',
    weights: 'invalid',
    missing: 'invalid',
    duration: 'invalid',
  });

  for (const [name, , field] of invalid) {
    const status = await readCanaryStatus(ns, name);
    assert.equal(status.phase, 'Failed', `${name} is marked Failed`);
    const condition = (status.conditions as { type: string; status: string; message: string }[]).find(
      (c) => c.type === 'Promoted',
    );
    assert.match(condition?.message ?? '', field, `${name}: the condition names the field`);
    const events = await canaryEvents(ns, name);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, 'Warning');
    assert.match(events[0]?.message ?? '', field);
    // Nothing of the broken canary's is touched: no primary, the target keeps its replicas.
    await assert.rejects(apps.readNamespacedDeployment({ name: `${name}-primary`, namespace: ns }));
    if (name !== 'missing')
      assert.equal((await apps.readNamespacedDeployment({ name, namespace: ns })).spec?.replicas, 1);
  }
  // A second look at a broken canary does not repeat the event.
  await reconcileCanary(await stored('istio'), deps);
  assert.equal((await canaryEvents(ns, 'istio')).length, 1);

  // The valid canary initializes and then rolls a new revision out normally.
  await worker.client.workflow.getHandle(init.kind === 'initializing' ? init.workflowId : '').result();
  await waitFor(
    'good to be Initialized',
    async () => (await readCanaryStatus(ns, 'good')).phase === 'Initialized',
    30_000,
  );
  await apps.patchNamespacedDeployment(
    {
      name: 'good',
      namespace: ns,
      body: { spec: { template: { metadata: { annotations: { version: 'v2' } } } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const rollout = await reconcileCanary(await stored('good'), deps);
  assert.equal(rollout.kind, 'rollout');
  const handle = worker.client.workflow.getHandle(rollout.kind === 'rollout' ? rollout.workflowId : '');
  const result = (await handle.result()) as { outcome: string };
  await recordHistory('valid-beside-invalid', handle);
  assert.equal(result.outcome, 'promoted');
  // A suspended Canary is left alone: no initialization, nothing generated.
  await apps.createNamespacedDeployment({ namespace: ns, body: podinfoDeployment('paused', ns, 1) });
  const paused = canaryObject('paused', ns, { interval: '300ms', iterations: 2 });
  (paused.spec as Record<string, unknown>).suspend = true;
  await custom.createNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: ns,
    plural: 'canaries',
    body: paused,
  });
  assert.equal((await reconcileCanary(await stored('paused'), deps)).kind, 'suspended');
  await assert.rejects(apps.readNamespacedDeployment({ name: 'paused-primary', namespace: ns }));

  // Reconciling again after the promotion starts nothing.
  assert.equal((await reconcileCanary(await stored('good'), deps)).kind, 'up-to-date');
});
