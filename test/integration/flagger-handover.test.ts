// Handing a Canary over from Flagger: a Canary whose status holds Flagger's revision hashes (as Flagger
// leaves it: phase Succeeded, lastPromotedSpec and lastAppliedSpec its own) is rolled out once when a real
// `cutover worker` first sees it, the version that already serves, with the analysis and without
// replacing the primary's pods; the next worker finds it up to date. docs/coming-from-flagger.md says so.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestContext } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../../stack/processes.ts';
import { canaryEvents, canaryObject, createCanary, readCanaryStatus } from '../support/canaries.ts';
import { kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { WorkerProcess } from '../support/worker-process.ts';

/** A revision hash of Flagger's shape (it hashes the template its own way); never one of Cutover's. */
const flaggerRevision = '5b9f8d7c6d';

let namespace: { name: string; remove: () => Promise<void> };
let worker: WorkerProcess | undefined;
const taskQueue = `handover-${process.pid}`;

before(async () => {
  namespace = await testNamespace('handover');
});

after(async () => {
  await worker?.stop();
  await namespace?.remove();
});

test("a Canary Flagger ran is rolled out once, the live version, without replacing the primary's pods", async (t: TestContext) => {
  const ns = namespace.name;
  const { apps, config } = kube();
  // The objects Flagger would have made (primary, Services) are made by a Cutover initialization; then
  // the status is set as Flagger leaves it, while no worker runs.
  worker = await startWorkerProcess({ namespace: ns, taskQueue });
  await apps.createNamespacedDeployment({ namespace: ns, body: podinfoDeployment('podinfo', ns, 1) });
  await createCanary(canaryObject('podinfo', ns, { interval: '300ms', iterations: 2 }));
  const status = (): Promise<Record<string, unknown>> => readCanaryStatus(ns, 'podinfo');
  await waitFor('the Canary to be Initialized', async () => (await status()).phase === 'Initialized', 90_000);
  const cutoverRevision = (await status()).lastPromotedSpec;
  await worker.stop();
  worker = undefined;
  await config.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObjectStatus(
    {
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural: 'canaries',
      name: 'podinfo',
      body: {
        status: { phase: 'Succeeded', lastPromotedSpec: flaggerRevision, lastAppliedSpec: flaggerRevision },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const primaryBefore = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });

  worker = await startWorkerProcess({ namespace: ns, taskQueue });
  const started = performance.now();
  let messages: string[] = [];
  // The status is written before the events of a step: wait for the last event.
  await waitFor(
    'the rollout of the live version to be promoted',
    async () => {
      messages = (await canaryEvents(ns, 'podinfo')).map((event) => event.message);
      return messages.some((m) => m.startsWith('Promotion completed!'));
    },
    120_000,
  );
  t.diagnostic(
    `rolled out and promoted ${((performance.now() - started) / 1000).toFixed(1)} s after the worker started`,
  );
  assert.equal(
    (await status()).lastPromotedSpec,
    cutoverRevision,
    "Cutover's own revision hash replaces Flagger's",
  );
  const rollout = messages.slice(messages.findIndex((m) => m.startsWith('New revision detected!')));
  assert.deepEqual(
    rollout.map(
      (m) =>
        /^(New revision detected!|Starting canary analysis|Advance|Copying|Promotion completed!)/.exec(
          m,
        )?.[1],
    ),
    [
      'New revision detected!',
      'Starting canary analysis',
      'Advance',
      'Advance',
      'Copying',
      'Promotion completed!',
    ],
    messages.join('\n'),
  );
  const primaryAfter = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
  assert.equal(
    primaryAfter.metadata?.generation,
    primaryBefore.metadata?.generation,
    "the same template copied again: the primary's pods are not replaced",
  );

  // Once is all: another worker finds the Canary up to date.
  await worker.stop();
  worker = await startWorkerProcess({ namespace: ns, taskQueue });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const later = (await canaryEvents(ns, 'podinfo')).filter((e) =>
    e.message.startsWith('New revision detected!'),
  );
  assert.equal(later.length, 1, 'no second rollout');
  assert.equal((await status()).phase, 'Succeeded');
});
