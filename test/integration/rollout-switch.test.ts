// Switch mode on the real stack: the apex Service's traffic (through the pod runner, which follows
// selectors like kube-proxy) moves to the green pods in one patch, blue stays up through the
// keep-warm window, and comes back at once on a failed post-promotion check or `rollback`; when the
// window passes, the primary runs the tested template and serves again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ResolvedRolloutPolicy } from '../../canary/rollout-policy.ts';
import type { MetricCheck } from '../../canary/validate.ts';
import { podinfoMessage } from '../../stack/podinfo-probe.ts';
import { waitFor } from '../../stack/processes.ts';
import { rollbackSignal, statusQuery } from '../../workflows/messages.ts';
import { canaryEvents, readCanaryStatus } from '../support/canaries.ts';
import { kube, readServiceMap } from '../support/cluster.ts';
import { recordHistory } from '../support/histories.ts';
import { startLoad } from '../support/load.ts';
import { setupScenario } from '../support/scenario.ts';
import { startTestWorker, type TestWorker } from '../support/worker.ts';

let worker: TestWorker;
before(async () => {
  worker = await startTestWorker('switch');
});
after(async () => {
  await worker.stop();
});

function switchPolicy(keepWarmMs: number, metrics: MetricCheck[] = []): ResolvedRolloutPolicy {
  return {
    name: 'switch',
    strategy: 'switch',
    switch: { keepWarmMs, analysis: { intervalMs: 500, threshold: 2, metrics } },
  };
}

/**
 * The `message` podinfo answers a new client of the apex Service (stack/podinfo-probe.ts): which
 * version serves.
 */
async function apexMessage(ns: string): Promise<string | undefined> {
  const address = readServiceMap()[`podinfo.${ns}`]?.http?.address;
  return address ? podinfoMessage(address) : undefined;
}

async function apexSelector(ns: string): Promise<Record<string, string> | undefined> {
  return (await kube().core.readNamespacedService({ name: 'podinfo', namespace: ns })).spec?.selector;
}

test('switch: production traffic moves to the tested green pods, blue stays warm, then the primary takes over', async () => {
  const scenario = await setupScenario(worker, 'switch', { interval: '300ms', iterations: 1 });
  const ns = scenario.namespace;
  try {
    const blue = await apexMessage(ns);
    assert.ok(blue, 'the apex serves blue before the rollout');
    await scenario.changeTarget(['--ui-message=green']);
    const handle = await scenario.startRollout({ policy: switchPolicy(4_000) });
    await waitFor('the apex serves green', async () => (await apexMessage(ns)) === 'green', 60_000);
    assert.deepEqual(await apexSelector(ns), { app: 'podinfo' });
    const primary = await kube().apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
    assert.equal(primary.status?.availableReplicas, 1, 'blue stays at full scale during the window');
    assert.equal((await handle.query(statusQuery)).serving, 'green');
    const result = await handle.result();
    await recordHistory('switch-promotion', handle);
    assert.equal(result.outcome, 'promoted');
    assert.deepEqual(await apexSelector(ns), { app: 'podinfo-primary' });
    await waitFor(
      'the primary serves the tested version',
      async () => (await apexMessage(ns)) === 'green',
      30_000,
    );
    const target = await kube().apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns });
    assert.equal(target.spec?.replicas, 0, 'green is scaled to zero after the flip back');
    assert.equal((await readCanaryStatus(ns, 'podinfo')).phase, 'Succeeded');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.some((m) => m.startsWith(`Switching traffic of podinfo.${ns} to the green pods`)),
      messages.join('\n'),
    );
  } finally {
    await scenario.remove();
  }
});

test('switch: a failed post-promotion check flips back to blue at once and fails the rollout', async () => {
  const scenario = await setupScenario(worker, 'switch-fail', { interval: '300ms', iterations: 1 });
  const ns = scenario.namespace;
  const load = startLoad('podinfo', ns, '/', 30);
  try {
    const blue = await apexMessage(ns);
    await scenario.changeTarget(['--ui-message=green', '--random-error=true']);
    const policy = switchPolicy(60_000, [
      {
        name: 'request-success-rate',
        source: 'builtin',
        builtin: 'request-success-rate',
        interval: '30s',
        intervalMs: 30_000,
        thresholdRange: { min: 99 },
      },
    ]);
    const handle = await scenario.startRollout({ policy });
    const result = await handle.result();
    await recordHistory('switch-post-promotion-failure', handle);
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason, /traffic switched back to blue/);
    assert.deepEqual(await apexSelector(ns), { app: 'podinfo-primary' });
    await waitFor('blue serves again', async () => (await apexMessage(ns)) === blue, 10_000);
    assert.equal((await readCanaryStatus(ns, 'podinfo')).phase, 'Failed');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.some((m) => m.startsWith(`Post-promotion check of podinfo.${ns} failed`)),
      messages.join('\n'),
    );
  } finally {
    await load.stop();
    await scenario.remove();
  }
});

test('switch: cutover rollback during the window brings blue back within two seconds', async () => {
  const scenario = await setupScenario(worker, 'switch-rollback', { interval: '300ms', iterations: 1 });
  const ns = scenario.namespace;
  try {
    const blue = await apexMessage(ns);
    await scenario.changeTarget(['--ui-message=green']);
    const handle = await scenario.startRollout({ policy: switchPolicy(60_000) });
    await waitFor('the apex serves green', async () => (await apexMessage(ns)) === 'green', 60_000);
    const asked = Date.now();
    await handle.signal(rollbackSignal, { by: 'dana', reason: 'customer reports' });
    await waitFor('blue serves again', async () => (await apexMessage(ns)) === blue, 10_000);
    const tookMs = Date.now() - asked;
    const result = await handle.result();
    await recordHistory('switch-manual-rollback', handle);
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason, /rolled back by dana: customer reports/);
    assert.ok(tookMs < 2_000, `blue served again ${tookMs} ms after the rollback`);
  } finally {
    await scenario.remove();
  }
});

test('switch: a new revision during the window flips back to blue before its rollout starts', async () => {
  const scenario = await setupScenario(worker, 'switch-new', { interval: '300ms', iterations: 1 });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=green']);
    const first = await scenario.startRollout({ policy: switchPolicy(60_000) });
    await waitFor('the apex serves green', async () => (await apexMessage(ns)) === 'green', 60_000);
    await scenario.changeTarget(['--ui-message=newer']);
    const second = await scenario.startRollout({ policy: switchPolicy(1_000), supersedes: first.workflowId });
    const firstResult = await first.result();
    assert.equal(firstResult.outcome, 'superseded');
    assert.match(firstResult.reason, /traffic switched back to blue/);
    const secondResult = await second.result();
    assert.equal(secondResult.outcome, 'promoted');
    await waitFor('the newer version serves', async () => (await apexMessage(ns)) === 'newer', 30_000);
  } finally {
    await scenario.remove();
  }
});
