// Switch mode (a RolloutPolicy with `strategy: switch`) on a real Temporal with the cluster faked
// at the activity boundary: the flip to green, the keep-warm window and its post-promotion checks,
// the flip back on failure, on `cutover rollback`, on a newer revision and on cancellation, and the
// finalisation that leaves Flagger's layout.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ResolvedRolloutPolicy } from '../../canary/rollout-policy.ts';
import { rollbackSignal, statusQuery } from '../../workflows/messages.ts';
import type { rolloutWorkflow } from '../../workflows/rollout.ts';
import { FakeCluster, testCanary } from '../support/fake-cluster.ts';
import { startFakeWorker, startWorkflowEnvironment } from '../support/workflow-env.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startWorkflowEnvironment();
});
after(async () => {
  await env?.teardown();
});

const successRate = { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' };
let sequence = 0;

interface Run {
  cluster: FakeCluster;
  handle: WorkflowHandle<typeof rolloutWorkflow>;
  stop(): Promise<void>;
}

async function switchRollout(keepWarmMs: number, setup: (c: FakeCluster) => void = () => {}): Promise<Run> {
  const cluster = new FakeCluster();
  setup(cluster);
  const canary = testCanary({ iterations: 1, metrics: [successRate] });
  const policy: ResolvedRolloutPolicy = {
    name: 'switch',
    strategy: 'switch',
    switch: { keepWarmMs, analysis: { intervalMs: 200, threshold: 2, metrics: canary.analysis.metrics } },
  };
  const taskQueue = `switch-${process.pid}-${sequence++}`;
  const worker = await startFakeWorker(env, taskQueue, cluster.activities());
  const handle = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue,
    workflowId: `${taskQueue}/rollout`,
    args: [{ canary, canaryUid: 'uid-1', revision: 'rev2', options: { readinessPollMs: 20 }, policy }],
  });
  return { cluster, handle, stop: () => worker.stop() };
}

async function finished(run: Run) {
  try {
    return await run.handle.result();
  } finally {
    await run.stop();
  }
}

async function serving(run: Run, pods: 'green' | 'primary'): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await run.handle.query(statusQuery)).serving !== pods) {
    if (Date.now() > deadline) throw new Error(`apex never served ${pods}`);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

describe('switch mode', () => {
  test('flips to green, keeps blue warm, then copies the template and flips back to the primary', async () => {
    const run = await switchRollout(800);
    const result = await finished(run);
    assert.equal(result.outcome, 'promoted');
    assert.deepEqual(run.cluster.flips, ['green', 'primary']);
    assert.deepEqual(run.cluster.promotions, ['rev2']);
    // Blue was never scaled down; green is scaled to zero only after the flip back.
    assert.ok(!run.cluster.scales.some((s) => s.name === 'podinfo-primary'));
    assert.deepEqual(run.cluster.scales.at(-1), { name: 'podinfo', replicas: 0 });
    const messages = run.cluster.messages();
    const at = (prefix: string) => messages.findIndex((m) => m.startsWith(prefix));
    assert.ok(at('Switching traffic of podinfo.test to the green pods') >= 0, messages.join('\n'));
    assert.ok(
      at('Keep-warm window of podinfo.test passed') > at('Switching traffic of podinfo.test to the green'),
    );
    assert.ok(at('Switching traffic of podinfo.test back to podinfo-primary.test') > at('Keep-warm window'));
    assert.ok(at('Promotion completed!') > at('Switching traffic of podinfo.test back'));
    assert.equal(run.cluster.status.phase, 'Succeeded');
  });

  test('a post-promotion check past its threshold flips back to blue and fails the rollout', async () => {
    const run = await switchRollout(60_000, (c) =>
      c.metricAnswers.set('request-success-rate', (n) =>
        n === 1
          ? { passed: true, value: 100 }
          : { passed: false, value: 90, message: 'success rate 90% < 99%' },
      ),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.match(
      result.reason,
      /post-promotion failed checks threshold reached 2; traffic switched back to blue/,
    );
    assert.deepEqual(run.cluster.flips, ['green', 'primary']);
    assert.deepEqual(run.cluster.promotions, [], 'the primary keeps the blue template');
    assert.equal(run.cluster.status.phase, 'Failed');
    assert.deepEqual(run.cluster.scales.at(-1), { name: 'podinfo', replicas: 0 });
  });

  test('cutover rollback during the window flips back at once, with who and why', async () => {
    const run = await switchRollout(60_000);
    await serving(run, 'green');
    const asked = Date.now();
    await run.handle.signal(rollbackSignal, { by: 'carol', reason: 'errors in the logs' });
    await serving(run, 'primary');
    const flipMs = Date.now() - asked;
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason, /rolled back by carol: errors in the logs/);
    assert.deepEqual(run.cluster.flips, ['green', 'primary']);
    assert.ok(flipMs < 5_000, `flip back took ${flipMs} ms`);
  });

  test('a newer revision during the window flips back to blue before handing over', async () => {
    const run = await switchRollout(60_000);
    await serving(run, 'green');
    await run.handle.signal('supersede', { revision: 'rev3', workflowId: 'next' });
    const result = await finished(run);
    assert.equal(result.outcome, 'superseded');
    assert.deepEqual(run.cluster.flips, ['green', 'primary']);
    assert.ok(!run.cluster.scales.some((s) => s.replicas === 0), 'green belongs to the next rollout now');
  });

  test('cancellation during the window flips back and rolls back', async () => {
    const run = await switchRollout(60_000);
    await serving(run, 'green');
    await run.handle.cancel();
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.deepEqual(run.cluster.flips, ['green', 'primary']);
  });

  test('a Canary without a policy never touches the apex', async () => {
    const cluster = new FakeCluster();
    const taskQueue = `switch-${process.pid}-${sequence++}`;
    const worker = await startFakeWorker(env, taskQueue, cluster.activities());
    const handle = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
      taskQueue,
      workflowId: `${taskQueue}/rollout`,
      args: [
        {
          canary: testCanary({ iterations: 1 }),
          canaryUid: 'uid-1',
          revision: 'rev2',
          options: { readinessPollMs: 20 },
        },
      ],
    });
    const result = await finished({ cluster, handle, stop: () => worker.stop() });
    assert.equal(result.outcome, 'promoted');
    assert.deepEqual(cluster.flips, []);
  });
});
