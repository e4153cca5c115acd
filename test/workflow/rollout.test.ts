// Every phase and decision rule of the rollout state machine, on a real Temporal (the local test
// environment on the cached `temporal` binary) with the cluster, hooks and Prometheus faked at the
// activity boundary. Seconds, not minutes: intervals are 200 ms.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { abortSignal, promoteSignal, statusQuery } from '../../workflows/messages.ts';
import type { RolloutInput, RolloutOptions } from '../../workflows/messages.ts';
import type { CanaryOptions } from '../support/canaries.ts';
import { hook, type FakeCluster } from '../support/fake-cluster.ts';
import {
  finishedRun,
  startFakeRollout,
  stopFakeRollouts,
  waitFor,
  type FakeRun,
} from '../support/workflow-runs.ts';
import { startWorkflowEnvironment } from '../support/workflow-env.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startWorkflowEnvironment();
});
after(async () => {
  await stopFakeRollouts();
  await env?.teardown();
});

type Run = FakeRun;

/** Starts one rollout on its own task queue against a fresh fake cluster. */
function rollout(
  options: CanaryOptions,
  setup: (cluster: FakeCluster) => void = () => {},
  input: Partial<RolloutInput> & { options?: RolloutOptions } = {},
): Promise<Run> {
  return startFakeRollout(env, options, setup, input);
}

const finished = finishedRun;

const successRate = { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' };

describe('rollout state machine', () => {
  test('promotes after the configured good iterations, then scales green to zero', async () => {
    const result = await finished(await rollout({ metrics: [successRate] }));
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.iteration, 3);
    const run = await rollout({ iterations: 2 });
    const second = await finished(run);
    assert.equal(second.outcome, 'promoted');
    assert.deepEqual(run.cluster.messages(), [
      'New revision detected! Scaling up podinfo.test',
      'Starting canary analysis for podinfo.test',
      'Advance podinfo.test canary iteration 1/2',
      'Advance podinfo.test canary iteration 2/2',
      'Copying podinfo.test template spec to podinfo-primary.test',
      'Promotion completed! Scaling down podinfo.test',
    ]);
    assert.equal(run.cluster.status.phase, 'Succeeded');
    assert.equal(run.cluster.status.lastPromotedSpec, 'rev2');
    assert.deepEqual(run.cluster.promotions, ['rev2']);
    assert.deepEqual(run.cluster.scales.at(-1), { name: 'podinfo', replicas: 0 });
  });

  test('rolls back when failed checks reach the threshold', async () => {
    const run = await rollout({ metrics: [successRate], threshold: 2 }, (c) =>
      c.metricAnswers.set('request-success-rate', () => ({
        passed: false,
        value: 95,
        message: 'Halt podinfo.test advancement success rate 95.00% < 99%',
      })),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.equal(result.failedChecks, 2);
    assert.match(result.reason, /failed checks threshold reached 2/);
    assert.equal(run.cluster.status.phase, 'Failed');
    assert.ok(run.cluster.messages().includes('Canary failed! Scaling down podinfo.test'));
    assert.deepEqual(run.cluster.promotions, []);
    assert.deepEqual(run.cluster.scales.at(-1), { name: 'podinfo', replicas: 0 });
  });

  test('a failed check halts the iteration; a later good one advances', async () => {
    const run = await rollout({ metrics: [successRate], threshold: 3, iterations: 2 }, (c) =>
      c.metricAnswers.set('request-success-rate', (n) =>
        n === 1 ? { passed: false, message: 'bad tick' } : { passed: true, value: 100 },
      ),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.failedChecks, 1);
    assert.ok(run.cluster.messages().includes('bad tick'));
  });

  test('an unreachable Prometheus counts as a failed check after its retries', async () => {
    const run = await rollout({ metrics: [successRate], threshold: 1 }, (c) =>
      c.metricAnswers.set('request-success-rate', () => 'unreachable'),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.ok(
      run.cluster.messages().some((m) => m.startsWith('Metric query failed for request-success-rate')),
    );
  });

  test('the confirm-rollout gate waits, says so once, and goes on when the hook says yes', async () => {
    const run = await rollout({ webhooks: [hook('gate', 'confirm-rollout')], iterations: 1 }, (c) =>
      c.hookAnswers.set('gate', (n) => n >= 3),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'promoted');
    const waiting = run.cluster
      .messages()
      .filter((m) => m === 'Halt podinfo.test advancement waiting for approval gate');
    assert.equal(waiting.length, 1);
    assert.equal(run.cluster.hookCallsOf('gate').length, 3);
    // Nothing was scaled before the gate opened.
    assert.equal(run.cluster.messages()[0], 'Halt podinfo.test advancement waiting for approval gate');
  });

  test('failing pre-rollout hooks count failed checks and roll back at the threshold', async () => {
    const run = await rollout({ webhooks: [hook('acceptance', 'pre-rollout')], threshold: 2 }, (c) =>
      c.hookAnswers.set('acceptance', () => false),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.equal(result.failedChecks, 2);
    assert.ok(
      run.cluster
        .messages()
        .some((m) => m.startsWith('Halt podinfo.test advancement pre-rollout check acceptance failed')),
    );
  });

  test('passing pre-rollout hooks are reported and the analysis runs', async () => {
    const run = await rollout({ webhooks: [hook('acceptance', 'pre-rollout')], iterations: 1 });
    assert.equal((await finished(run)).outcome, 'promoted');
    assert.ok(run.cluster.messages().includes('Pre-rollout check acceptance passed'));
  });

  test('a failing rollout hook halts the tick like a failed metric', async () => {
    const run = await rollout({ webhooks: [hook('load', 'rollout')], threshold: 1 }, (c) =>
      c.hookAnswers.set('load', () => false),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.ok(
      run.cluster
        .messages()
        .some((m) => m.startsWith('Halt podinfo.test advancement external check load failed')),
    );
  });

  test('a rollback hook that answers yes rolls back at once', async () => {
    const run = await rollout({ webhooks: [hook('kill', 'rollback')], iterations: 5 }, (c) =>
      c.hookAnswers.set('kill', (n) => n >= 2),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.equal(result.iteration, 1);
    assert.ok(run.cluster.messages().includes('Rolling back podinfo.test manual webhook invoked'));
  });

  test('the confirm-promotion gate holds while the analysis goes on, then promotes', async () => {
    const run = await rollout(
      { webhooks: [hook('promo', 'confirm-promotion')], metrics: [successRate], iterations: 1 },
      (c) => c.hookAnswers.set('promo', (n) => n >= 3),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'promoted');
    const messages = run.cluster.messages();
    assert.equal(
      messages.filter((m) => m === 'Halt podinfo.test advancement waiting for promotion approval promo')
        .length,
      1,
    );
    assert.equal(run.cluster.hookCallsOf('promo').length, 3);
    // The analysis went on while promotion waited: one tick before the gate, then one per held interval.
    assert.ok(run.cluster.hookCalls.length >= 3);
  });

  test('a failing check while promotion waits can still roll back', async () => {
    const run = await rollout(
      { webhooks: [hook('promo', 'confirm-promotion')], metrics: [successRate], iterations: 1, threshold: 1 },
      (c) => {
        c.hookAnswers.set('promo', () => false);
        c.metricAnswers.set('request-success-rate', (n) =>
          n === 1 ? { passed: true, value: 100 } : { passed: false, message: 'now bad' },
        );
      },
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.ok(run.cluster.messages().includes('now bad'));
  });

  test('promote by hand ends the analysis early and skips the promotion gate', async () => {
    const run = await rollout({ iterations: 50, webhooks: [hook('promo', 'confirm-promotion')] }, (c) =>
      c.hookAnswers.set('promo', () => false),
    );
    await waitForPhase(run, 'Progressing');
    await run.handle.signal(promoteSignal, { by: 'alice', reason: 'looks good' });
    const result = await finished(run);
    assert.equal(result.outcome, 'promoted');
    assert.ok(result.iteration < 50);
    assert.ok(run.cluster.messages().includes('Promotion of podinfo.test requested by alice: looks good'));
    assert.deepEqual(run.cluster.hookCallsOf('promo'), []);
  });

  test('abort rolls back with who and why', async () => {
    const run = await rollout({ iterations: 50 });
    await waitForPhase(run, 'Progressing');
    await run.handle.signal(abortSignal, { by: 'bob', reason: 'pager went off' });
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.ok(run.cluster.messages().includes('Rolling back podinfo.test aborted by bob: pager went off'));
    assert.equal(run.cluster.status.phase, 'Failed');
    assert.deepEqual(
      result.manualActions.map((a) => a.action),
      ['abort'],
    );
  });

  test('cancellation from Temporal is an abort: rolls back in a non-cancellable scope', async () => {
    const run = await rollout({ iterations: 50 });
    await waitForPhase(run, 'Progressing');
    await run.handle.cancel();
    const result = await finished(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason, /cancelled in Temporal/);
    assert.equal(run.cluster.status.phase, 'Failed');
    assert.deepEqual(run.cluster.scales.at(-1), { name: 'podinfo', replicas: 0 });
  });

  test('a newer revision supersedes the rollout without scaling anything down', async () => {
    const run = await rollout({ iterations: 50 });
    await waitForPhase(run, 'Progressing');
    await run.handle.signal('supersede', { revision: 'rev3', workflowId: 'next' });
    const result = await finished(run);
    assert.equal(result.outcome, 'superseded');
    assert.ok(!run.cluster.scales.some((s) => s.replicas === 0));
  });

  test('skipAnalysis promotes right after green is ready', async () => {
    const run = await rollout({ skipAnalysis: true, metrics: [successRate] });
    const result = await finished(run);
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.iteration, 0);
    assert.ok(!run.cluster.messages().includes('Starting canary analysis for podinfo.test'));
  });

  test('green missing its progress deadline rolls back as failed', async () => {
    const run = await rollout({ progressDeadlineSeconds: 1 }, (c) => c.readyAfter.set('podinfo', Infinity));
    const result = await finished(run);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /podinfo.test progress deadline exceeded/);
    assert.equal(run.cluster.status.phase, 'Failed');
  });

  test('a Canary deleted mid-rollout stops the rollout', async () => {
    const run = await rollout({ iterations: 50 });
    await waitForPhase(run, 'Progressing');
    run.cluster.canaryExists = false;
    const result = await finished(run);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /was deleted/);
  });

  test('continue-as-new carries the analysis over', async () => {
    const run = await rollout({ iterations: 4 }, () => {}, {
      options: { readinessPollMs: 20, continueAsNewAfterIterations: 2 },
    });
    const result = await finished(run);
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.iteration, 4);
    const advances = run.cluster.messages().filter((m) => m.startsWith('Advance'));
    assert.deepEqual(
      advances,
      [1, 2, 3, 4].map((i) => `Advance podinfo.test canary iteration ${i}/4`),
    );
  });

  test('the status query shows every step of the last tick', async () => {
    const run = await rollout({
      iterations: 50,
      metrics: [successRate],
      webhooks: [hook('load', 'rollout')],
    });
    await waitFor(async () => (await run.handle.query(statusQuery)).lastTick !== undefined);
    const status = await run.handle.query(statusQuery);
    assert.equal(status.lastTick?.hooks[0]?.name, 'load');
    assert.equal(status.lastTick?.metrics[0]?.name, 'request-success-rate');
    assert.equal(status.lastTick?.decision, 'advance');
    await run.handle.signal(abortSignal, { by: 'test', reason: 'done' });
    await finished(run);
  });

  test('an alert that cannot be delivered is said on the Canary once, and the rollout goes on', async () => {
    const run = await rollout(
      { iterations: 3, alerts: [{ name: 'chat', severity: 'info', providerRef: { name: 'slack' } }] },
      (c) => (c.alertError = 'AlertProvider test/slack not found: create it'),
    );
    const result = await finished(run);
    assert.equal(result.outcome, 'promoted');
    assert.ok(run.cluster.alerts.length >= 2, 'several alerts were tried');
    const undelivered = run.cluster
      .messages()
      .filter((m) => m.startsWith('Alert chat of podinfo.test could not be delivered'));
    assert.equal(undelivered.length, 1, run.cluster.messages().join('\n'));
    assert.match(
      undelivered[0] ?? '',
      /AlertProvider test\/slack not found: create it\. Fix the AlertProvider/,
    );
  });

  test('an analysis tick costs at most 8 history events', async () => {
    const short = await rollout({
      iterations: 1,
      metrics: [successRate],
      webhooks: [hook('load', 'rollout')],
    });
    await finished(short);
    const long = await rollout({
      iterations: 6,
      metrics: [successRate],
      webhooks: [hook('load', 'rollout')],
    });
    await finished(long);
    const count = async (run: Run) => (await run.handle.fetchHistory()).events?.length ?? 0;
    const perTick = ((await count(long)) - (await count(short))) / 5;
    assert.ok(perTick <= 8, `history events per tick: ${perTick}`);
  });
});

async function waitForPhase(run: Run, phase: string): Promise<void> {
  await waitFor(
    async () =>
      (await run.handle.query(statusQuery)).phase === phase &&
      run.cluster.messages().some((m) => m.startsWith('Starting canary analysis')),
  );
}
