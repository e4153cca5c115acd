// Change control at the workflow level (issue 10): the steering Updates and their validators,
// N-of-M approvals, pause and resume, inconclusive analysis, and the deploy-window gate, on a real
// Temporal (the local test environment on the cached binary) with the cluster faked at the boundary.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Actor, ApprovalRule, InconclusivePolicy } from '../../canary/change-control.ts';
import type { ResolvedRolloutPolicy } from '../../canary/rollout-policy.ts';
import { promoteSignal } from '../../workflows/messages.ts';
import {
  abortUpdate,
  approveUpdate,
  changeWindowsSignal,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
  rollbackUpdate,
  type ActionRequest,
} from '../../workflows/steering-messages.ts';
import type { FakeCluster } from '../support/fake-cluster.ts';
import {
  finishedRun,
  startFakeRollout,
  stopFakeRollouts,
  waitFor,
  waitForStatus,
} from '../support/workflow-runs.ts';
import { recordHistory } from '../support/histories.ts';
import { startWorkflowEnvironment } from '../support/workflow-env.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startWorkflowEnvironment();
});
after(async () => {
  await stopFakeRollouts();
  await env?.teardown();
});

const actor = (user: string, groups: string[] = [], verified = true): Actor => ({ user, groups, verified });
const as = (user: string, reason = `${user} says so`, extra: Partial<ActionRequest> = {}): ActionRequest => ({
  actor: actor(user, user === 'dana' ? ['release-managers'] : []),
  reason,
  ...extra,
});

const twoOfThree: ApprovalRule = {
  required: 2,
  users: ['alice', 'bob', 'carol'],
  groups: ['release-managers'],
  requireVerified: true,
};

function policy(extra: Partial<ResolvedRolloutPolicy>): ResolvedRolloutPolicy {
  return { name: 'change-control', strategy: 'copy', ...extra };
}

const successRate = { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' };

async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof WorkflowUpdateFailedError, `not an update failure: ${String(error)}`);
    const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
    assert.match(cause, pattern);
    return true;
  });
}

function start(setup: (c: FakeCluster) => void, extra: Partial<ResolvedRolloutPolicy>, iterations = 2) {
  return startFakeRollout(env, { iterations, metrics: [successRate] }, setup, { policy: policy(extra) });
}

/** The reason of the `Held` condition the rollout last wrote on the (fake) Canary. */
function heldReason(cluster: FakeCluster): string | undefined {
  return (cluster.status.condition as { type?: string; reason?: string } | undefined)?.reason;
}

describe('change control', () => {
  test('two of three approvers: refusals say why, the second distinct approval promotes', async () => {
    const run = await start(() => {}, { approvals: twoOfThree });
    const waiting = await waitForStatus(run, (s) => s.hold?.kind === 'approvals');
    assert.equal(waiting.phase, 'WaitingPromotion');
    assert.deepEqual(waiting.approvals?.approvedBy, []);
    await refused(
      run.handle.executeUpdate(promoteUpdate, { args: [as('alice')] }),
      /needs 2 approvals and has 0/,
    );
    await refused(
      run.handle.executeUpdate(approveUpdate, { args: [as('mallory')] }),
      /mallory is not an approver.*users alice, bob, carol; groups release-managers/,
    );
    await refused(
      run.handle.executeUpdate(approveUpdate, {
        args: [{ actor: actor('bob', [], false), reason: 'typed' }],
      }),
      /must come through a RolloutAction/,
    );
    const first = await run.handle.executeUpdate(approveUpdate, { args: [as('alice', 'tested on staging')] });
    assert.match(first.message, /approved by alice \(1 of 2\): tested on staging; may still approve/);
    assert.deepEqual(first.approvals?.approvedBy, ['alice']);
    await refused(
      run.handle.executeUpdate(approveUpdate, { args: [as('alice')] }),
      /alice has already approved/,
    );
    await waitFor(() => run.cluster.messages().some((m) => m.includes('1 so far: alice')));
    const second = await run.handle.executeUpdate(approveUpdate, { args: [as('dana', 'release manager')] });
    assert.match(second.message, /\(2 of 2\)/);
    await run.handle.result().then(() => recordHistory('approvals-two-of-three', run.handle));
    const result = await finishedRun(run);
    assert.equal(result.outcome, 'promoted');
    const messages = run.cluster.messages();
    assert.ok(
      messages.includes(
        'Halt podinfo.test advancement waiting for 2 approvals, 0 so far; may approve: users alice, bob, carol; groups release-managers',
      ),
    );
    assert.ok(messages.includes('Promotion of podinfo.test approved by alice, dana (2 of 2)'));
    assert.deepEqual(
      result.manualActions.map((a) => [a.action, a.by, a.actor?.verified]),
      [
        ['approve', 'alice', true],
        ['approve', 'dana', true],
      ],
    );
  });

  test('an approval past validFor no longer counts', async () => {
    const run = await start(() => {}, { approvals: { ...twoOfThree, required: 1, validForMs: 300 } });
    await waitForStatus(run, (s) => s.hold?.kind === 'approvals');
    // Approved and expired before the gate looks again: the rollout keeps waiting.
    await run.handle.executeUpdate(approveUpdate, { args: [as('carol')] });
    const status = await waitForStatus(
      run,
      (s) => s.phase === 'Succeeded' || s.approvals?.approvedBy.length === 0,
      5_000,
    );
    if (status.phase !== 'Succeeded') {
      assert.deepEqual(status.approvals?.approvedBy, []);
      await run.handle.executeUpdate(approveUpdate, { args: [as('bob')] });
    }
    await run.handle.result().then(() => recordHistory('approvals-expired', run.handle));
    assert.equal((await finishedRun(run)).outcome, 'promoted');
  });

  test('pause holds the analysis with no ticks spent; resume goes on an interval later', async () => {
    const run = await start(() => {}, {}, 4);
    await waitForStatus(run, (s) => s.iteration >= 1);
    const paused = await run.handle.executeUpdate(pauseUpdate, {
      args: [as('alice', 'investigating a spike')],
    });
    assert.match(paused.message, /paused by alice: investigating a spike; resume to continue/);
    await refused(run.handle.executeUpdate(pauseUpdate, { args: [as('bob')] }), /already paused/);
    const held = await waitForStatus(run, (s) => s.phase === 'Waiting');
    assert.equal(held.hold?.kind, 'paused');
    await waitFor(() => heldReason(run.cluster) === 'Paused');
    const ticks = run.cluster.metricCalls('request-success-rate');
    await new Promise((resolve) => setTimeout(resolve, 800)); // four intervals
    assert.equal(run.cluster.metricCalls('request-success-rate'), ticks, 'no tick while paused');
    const resumed = await run.handle.executeUpdate(resumeUpdate, { args: [as('bob', 'spike explained')] });
    assert.match(resumed.message, /resumed by bob/);
    await refused(run.handle.executeUpdate(resumeUpdate, { args: [as('bob')] }), /not paused/);
    await run.handle.result().then(() => recordHistory('pause-resume', run.handle));
    const result = await finishedRun(run);
    assert.equal(result.outcome, 'promoted');
    assert.equal(heldReason(run.cluster), 'Released');
    const messages = run.cluster.messages();
    assert.ok(messages.includes('Analysis of podinfo.test paused by alice: investigating a spike'));
    assert.ok(messages.includes('Analysis of podinfo.test resumed by bob: spike explained'));
  });

  const noData = {
    passed: false,
    message: 'Halt advancement no values found',
    inconclusive: 'no values found for metric',
  };
  const pauseAfter2: InconclusivePolicy = { action: 'pause', pauseAfter: 2 };

  test('inconclusive skip: ticks without data neither count nor fail', async () => {
    const run = await start(
      (c) =>
        c.metricAnswers.set('request-success-rate', (n) => (n <= 2 ? noData : { passed: true, value: 100 })),
      {
        inconclusive: { action: 'skip', pauseAfter: 3 },
      },
    );
    await run.handle.result().then(() => recordHistory('inconclusive-skip', run.handle));
    const result = await finishedRun(run);
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.failedChecks, 0);
    const skipped = run.cluster.messages().filter((m) => m.endsWith('tick skipped (inconclusive: skip)'));
    assert.equal(skipped.length, 2);
    assert.match(
      skipped[0] ?? '',
      /^Inconclusive podinfo.test check request-success-rate: no values found for metric/,
    );
  });

  test('inconclusive pause: after K in a row the analysis holds; promote resolves it', async () => {
    const run = await start((c) => c.metricAnswers.set('request-success-rate', () => noData), {
      inconclusive: pauseAfter2,
    });
    const held = await waitForStatus(run, (s) => s.hold?.kind === 'inconclusive');
    assert.equal(held.phase, 'Waiting');
    assert.equal(held.failedChecks, 0);
    const pausing = run.cluster.events.find((e) => e.message.includes('analysis paused after 2'));
    assert.equal(pausing?.type, 'Warning');
    await run.handle.executeUpdate(promoteUpdate, {
      args: [as('alice', 'no traffic at night, metrics fine yesterday')],
    });
    await run.handle.result().then(() => recordHistory('inconclusive-pause-promote', run.handle));
    const result = await finishedRun(run);
    assert.equal(result.outcome, 'promoted');
    const messages = run.cluster.messages();
    assert.ok(messages.some((m) => m.endsWith('1 of 2 in a row before a pause (inconclusive: pause)')));
    assert.ok(
      messages.some((m) =>
        m.includes('analysis paused after 2 inconclusive ticks in a row (inconclusive: pause)'),
      ),
    );
  });

  test('inconclusive pause resolved by abort rolls back', async () => {
    const run = await start((c) => c.metricAnswers.set('request-success-rate', () => noData), {
      inconclusive: pauseAfter2,
    });
    await waitForStatus(run, (s) => s.hold?.kind === 'inconclusive');
    await run.handle.executeUpdate(abortUpdate, { args: [as('bob', 'cannot tell, not risking it')] });
    await run.handle.result().then(() => recordHistory('inconclusive-pause-abort', run.handle));
    const result = await finishedRun(run);
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason, /aborted by bob: cannot tell, not risking it/);
    assert.equal(run.cluster.status.phase, 'Failed');
  });

  test('a closed deploy window holds a new rollout before scaling, until it opens', async () => {
    let opensAt = 0;
    const run = await start((c) => {
      c.changeWindow = (n) => {
        if (n === 1) {
          opensAt = Date.now() + 1_000;
          return {
            open: false,
            kind: 'outside-allow',
            name: 'office-hours',
            message: 'outside deploy window office-hours (0 9 * * 1-5, 8h, UTC): opens soon',
            opensAt: new Date(opensAt).toISOString(),
          };
        }
        return { open: true };
      };
    }, {});
    const held = await waitForStatus(run, (s) => s.hold?.kind === 'window');
    assert.equal(held.phase, 'Waiting');
    assert.deepEqual(run.cluster.scales, [], 'nothing is scaled while the window is closed');
    await waitFor(() => heldReason(run.cluster) === 'DeployWindow');
    await refused(
      run.handle.executeUpdate(promoteUpdate, { args: [as('alice')] }),
      /outside deploy window office-hours.*approve --override/,
    );
    await run.handle.result().then(() => recordHistory('window-before-scaling', run.handle));
    const result = await finishedRun(run);
    assert.equal(result.outcome, 'promoted');
    const messages = run.cluster.messages();
    assert.equal(
      messages[0],
      'Halt podinfo.test advancement: outside deploy window office-hours (0 9 * * 1-5, 8h, UTC): opens soon',
    );
    assert.ok(messages.includes('Deploy window open for podinfo.test: the rollout goes on'));
    assert.ok(run.cluster.changeWindowCalls.length >= 3, 'asked before scaling and before promotion');
    assert.ok(Date.now() >= opensAt);
  });

  test('a freeze applied mid-rollout holds promotion until it is lifted (signal) or overridden', async () => {
    let frozen = false;
    const freezeAfterStart = (message: string) => (c: FakeCluster) => {
      c.changeWindow = (n) =>
        n >= 2 && frozen ? { open: false, kind: 'freeze', name: 'black-friday', message } : { open: true };
    };
    const run = await start(
      freezeAfterStart('frozen by RolloutFreeze black-friday: peak season, until it is deleted'),
      {},
      3,
    );
    await waitForStatus(run, (s) => s.iteration >= 1);
    frozen = true;
    const held = await waitForStatus(run, (s) => s.hold?.kind === 'window');
    assert.equal(held.phase, 'WaitingPromotion');
    await refused(
      run.handle.executeUpdate(resumeUpdate, { args: [as('alice')] }),
      /resume does not open a deploy window/,
    );
    frozen = false;
    await run.handle.signal(changeWindowsSignal);
    await run.handle.result().then(() => recordHistory('freeze-lifted', run.handle));
    assert.equal((await finishedRun(run)).outcome, 'promoted');

    frozen = true;
    const second = await start(
      freezeAfterStart('frozen by RolloutFreeze black-friday: peak season'),
      { approvals: { ...twoOfThree, required: 1 } },
      1,
    );
    await refused(
      second.handle.executeUpdate(approveUpdate, { args: [as('alice', 'x', { override: true })] }),
      /nothing to override/,
    );
    await second.handle.executeUpdate(approveUpdate, { args: [as('alice', 'ok')] });
    await waitForStatus(second, (s) => s.hold?.kind === 'window');
    await refused(
      second.handle.executeUpdate(approveUpdate, { args: [as('mallory', 'x', { override: true })] }),
      /mallory is not an approver/,
    );
    const override = await second.handle.executeUpdate(approveUpdate, {
      args: [as('bob', 'security fix, CAB-1234', { override: true })],
    });
    assert.match(override.message, /overridden for podinfo.test by bob: security fix, CAB-1234/);
    await second.handle.result().then(() => recordHistory('freeze-overridden', second.handle));
    assert.equal((await finishedRun(second)).outcome, 'promoted');
    assert.ok(second.cluster.messages().some((m) => m.includes('overridden by bob: security fix, CAB-1234')));
  });

  test('validators: rollback outside switch mode, approve without a rule, a missing reason', async () => {
    const run = await start(() => {}, {}, 20);
    await waitForStatus(run, (s) => s.iteration >= 1);
    await refused(
      run.handle.executeUpdate(rollbackUpdate, { args: [as('alice')] }),
      /only a RolloutPolicy with strategy: switch has; use abort/,
    );
    await refused(run.handle.executeUpdate(approveUpdate, { args: [as('alice')] }), /asks for no approvals/);
    await refused(
      run.handle.executeUpdate(pauseUpdate, { args: [as('alice', ' ')] }),
      /a reason is required/,
    );
    // The older signal still works, and is recorded as typed.
    await run.handle.signal(promoteSignal, { by: 'someone', reason: 'old client' });
    await run.handle.result().then(() => recordHistory('signals-and-refusals', run.handle));
    const result = await finishedRun(run);
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.manualActions[0]?.actor, undefined);
  });
});
