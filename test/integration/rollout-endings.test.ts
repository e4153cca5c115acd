// Endings a rollout does not choose, on the real stack: "Request Cancellation" from Temporal is an
// abort (the rollback runs, the Canary says why), and a rollout that is terminated is repaired by
// the watcher's sweep (green scaled down, the Canary Failed with the reason) instead of being left
// Progressing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createActivities } from '../../activities/index.ts';
import { waitFor } from '../../stack/processes.ts';
import { repairAbandonedRollouts } from '../../worker/rollout-repair.ts';
import { statusQuery } from '../../workflows/messages.ts';
import { canaryEvents, readCanaryStatus } from '../support/canaries.ts';
import { endpoints, kube } from '../support/cluster.ts';
import { recordHistory } from '../support/histories.ts';
import { setupScenario } from '../support/scenario.ts';
import { startTestWorker, type TestWorker } from '../support/worker.ts';

let worker: TestWorker;
before(async () => {
  worker = await startTestWorker('endings');
});
after(async () => {
  await worker.stop();
});

async function targetReplicas(namespace: string): Promise<number | undefined> {
  return (await kube().apps.readNamespacedDeployment({ name: 'podinfo', namespace })).spec?.replicas;
}

test('Request Cancellation rolls back: green scaled to zero, the Canary Failed and saying why', async () => {
  const scenario = await setupScenario(worker, 'cancel', { interval: '300ms', iterations: 100 });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    await waitFor('analysis under way', async () => (await handle.query(statusQuery)).iteration >= 1, 60_000);
    await handle.cancel();
    const result = await handle.result();
    await recordHistory('cancel-request', handle);
    assert.equal(result.outcome, 'rolled-back');
    assert.equal((await readCanaryStatus(ns, 'podinfo')).phase, 'Failed');
    assert.equal(await targetReplicas(ns), 0);
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.includes(`Rolling back podinfo.${ns}: the rollout was cancelled in Temporal`),
      messages.join('\n'),
    );
  } finally {
    await scenario.remove();
  }
});

test('a terminated rollout is repaired: green scaled down, the Canary Failed with the reason', async () => {
  const scenario = await setupScenario(worker, 'terminate', { interval: '300ms', iterations: 100 });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const since = new Date(Date.now() - 60_000);
    const handle = await scenario.startRollout();
    await waitFor('analysis under way', async () => (await handle.query(statusQuery)).iteration >= 1, 60_000);
    await handle.terminate('operator pressed Terminate');
    assert.equal(
      (await readCanaryStatus(ns, 'podinfo')).phase,
      'Progressing',
      'nothing ran after termination',
    );
    const activities = createActivities({
      kubeconfig: kube().config,
      temporal: worker.client,
      defaultPrometheusUrl: endpoints.prometheusUrl,
    });
    // Visibility is eventually consistent: sweep until the terminated run is listed.
    let repairs: Awaited<ReturnType<typeof repairAbandonedRollouts>> = [];
    await waitFor(
      'the sweep finds the terminated rollout',
      async () => {
        repairs = await repairAbandonedRollouts({ client: worker.client, kubernetes: activities }, since);
        return repairs.some((r) => r.workflowId === handle.workflowId);
      },
      30_000,
    );
    const status = await readCanaryStatus(ns, 'podinfo');
    assert.equal(status.phase, 'Failed');
    assert.equal(await targetReplicas(ns), 0);
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.some((m) => m.includes('was terminated in Temporal; green scaled down')),
      messages.join('\n'),
    );
    // A second sweep changes nothing: the Canary no longer shows that rollout under way.
    const again = await repairAbandonedRollouts({ client: worker.client, kubernetes: activities }, since);
    assert.ok(!again.some((r) => r.workflowId === handle.workflowId));
  } finally {
    await scenario.remove();
  }
});
