// The RolloutAction controller's decisions over faked ports: the admission check first, the Update
// with the RolloutAction's uid, the validator's refusal as the status message, and retry's rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { rolloutAttemptAnnotation } from '../../../canary/annotations.ts';
import { validateRolloutAction, type RolloutAction } from '../../../canary/rollout-action.ts';
import { actOnRolloutAction } from '../../../worker/rollout-actions.ts';
import type { AdmissionCheck, ClusterPort, SteeringPort } from '../../../worker/rollout-actions.ts';
import { retryToken, retryVerdict } from '../../../worker/rollout-retry.ts';
import type { PastRollout } from '../../../worker/rollout-retry.ts';
import type { ActionRequest } from '../../../workflows/steering-messages.ts';

function action(spec: Record<string, unknown> = {}): RolloutAction {
  const validation = validateRolloutAction({
    metadata: {
      name: 'podinfo-promote-abcde',
      namespace: 'apps',
      uid: 'a1b2c3d4-0000-1111-2222-333344445555',
    },
    spec: {
      canary: 'podinfo',
      action: 'promote',
      reason: 'looks good',
      user: 'alice',
      groups: ['release-managers'],
      ...spec,
    },
  });
  assert.ok(validation.ok);
  return validation.action;
}

interface Fakes {
  cluster: ClusterPort;
  steering: SteeringPort;
  updates: { workflowId: string; action: string; request: ActionRequest; updateId: string }[];
  annotations: Record<string, string>[];
}

function fakes(options: {
  admission?: AdmissionCheck;
  canary?: boolean;
  rollouts?: (PastRollout & { runId: string })[];
  update?: () => Promise<unknown>;
  annotations?: Record<string, string>;
}): Fakes {
  const updates: Fakes['updates'] = [];
  const annotations: Record<string, string>[] = [];
  return {
    updates,
    annotations,
    cluster: {
      admission: async () => options.admission ?? { enforced: true },
      readCanary: async () =>
        options.canary === false
          ? undefined
          : { uid: 'canary-uid-1234', target: 'podinfo', annotations: options.annotations ?? {} },
      currentRevision: async () => 'rev-b',
      annotateCanary: async (_ns, _name, a) => void annotations.push(a),
      writeStatus: async () => undefined,
      recordEvent: async () => undefined,
    },
    steering: {
      rollouts: async () => options.rollouts ?? [],
      update: async (workflowId, name, request, updateId) => {
        updates.push({ workflowId, action: name, request, updateId });
        if (options.update) await options.update();
        return { message: 'promotion requested by alice', phase: 'Progressing' };
      },
    },
  };
}

const running = {
  workflowId: 'cutover/apps/podinfo/rollout/rev-b/canary-u',
  runId: 'run-1',
  status: 'RUNNING',
  startTime: new Date(2),
  revision: 'rev-b',
  phase: 'Progressing',
};

test('an admitted promote is an Update of the running rollout, as the verified user, with the uid as update id', async () => {
  const f = fakes({ rollouts: [running] });
  const outcome = await actOnRolloutAction(action(), new Date(), f);
  assert.equal(outcome.phase, 'Applied');
  assert.equal(outcome.message, 'promotion requested by alice');
  assert.equal(outcome.workflowId, running.workflowId);
  assert.deepEqual(f.updates, [
    {
      workflowId: running.workflowId,
      action: 'promote',
      updateId: 'a1b2c3d4-0000-1111-2222-333344445555',
      request: {
        actor: {
          user: 'alice',
          groups: ['release-managers'],
          verified: true,
          via: 'apps/podinfo-promote-abcde',
        },
        reason: 'looks good',
      },
    },
  ]);
});

test('approve carries the override; other actions never do', async () => {
  const f = fakes({ rollouts: [running] });
  await actOnRolloutAction(action({ action: 'approve', override: true }), new Date(), f);
  assert.equal(f.updates[0]?.request.override, true);
  assert.equal(f.updates[0]?.action, 'approve');
});

test("a validator's refusal is the RolloutAction's refusal", async () => {
  const f = fakes({
    rollouts: [running],
    update: async () => {
      throw new WorkflowUpdateFailedError(
        'Workflow Update failed',
        ApplicationFailure.create({ message: 'bob has already approved (1 of 2)' }),
      );
    },
  });
  const outcome = await actOnRolloutAction(action({ action: 'approve' }), new Date(), f);
  assert.equal(outcome.phase, 'Refused');
  assert.equal(outcome.reason, 'RolloutRefused');
  assert.match(outcome.message, /refused approve: bob has already approved \(1 of 2\)$/);
});

test('nothing is acted on where the admission policy is not enforced', async () => {
  const f = fakes({
    admission: { enforced: false, message: 'not enforced in apps: install it' },
    rollouts: [running],
  });
  const outcome = await actOnRolloutAction(action(), new Date(), f);
  assert.deepEqual(outcome, {
    phase: 'Refused',
    reason: 'AdmissionNotEnforced',
    message: 'not enforced in apps: install it',
  });
  assert.equal(f.updates.length, 0);
});

test('refused: no running rollout, no Canary, and a request older than the maximum age', async () => {
  const none = await actOnRolloutAction(action(), new Date(), fakes({}));
  assert.equal(none.reason, 'NoRunningRollout');
  assert.match(none.message, /no rollout of apps\/podinfo is running: nothing to promote/);
  const missing = await actOnRolloutAction(action(), new Date(), fakes({ canary: false }));
  assert.equal(missing.reason, 'CanaryNotFound');
  const old = await actOnRolloutAction(
    action(),
    new Date(Date.now() - 3_600_000),
    fakes({ rollouts: [running] }),
  );
  assert.equal(old.phase, 'Refused');
  assert.match(old.message, /an old request is not acted on/);
});

test('a call that fails for want of an answer is thrown, to be tried again', async () => {
  const f = fakes({
    rollouts: [running],
    update: async () => Promise.reject(new Error('deadline exceeded')),
  });
  await assert.rejects(actOnRolloutAction(action(), new Date(), f), /deadline exceeded/);
});

test('retry of a rolled-back revision sets the attempt annotation once, to a token of the request', async () => {
  const rolledBack = { ...running, status: 'COMPLETED', phase: 'Failed' };
  const f = fakes({ rollouts: [rolledBack] });
  const retry = action({ action: 'retry' });
  const outcome = await actOnRolloutAction(retry, new Date(), f);
  assert.equal(outcome.phase, 'Applied');
  const token = retryToken('rev-b', retry.uid);
  assert.deepEqual(f.annotations, [{ [rolloutAttemptAnnotation]: token }]);
  assert.equal(outcome.workflowId, `cutover/apps/podinfo/rollout/rev-b/canary-u/${token}`);
  // Redelivered after the annotation was written (and the new rollout runs): Applied, nothing written.
  const again = fakes({
    rollouts: [{ ...running, workflowId: outcome.workflowId ?? '' }],
    annotations: { [rolloutAttemptAnnotation]: token },
  });
  assert.equal((await actOnRolloutAction(retry, new Date(), again)).phase, 'Applied');
  assert.equal(again.annotations.length, 0);
});

test('retry is refused while a rollout runs, for a promoted revision, and for one never rolled out', () => {
  const base = {
    canary: { namespace: 'apps', name: 'podinfo', annotations: {} },
    revision: 'rev-b',
    actionUid: 'u',
  };
  const runningVerdict = retryVerdict({ ...base, rollouts: [running] });
  assert.equal(runningVerdict.kind, 'refused');
  assert.match(
    runningVerdict.kind === 'refused' ? runningVerdict.message : '',
    /is running .*abort it first/,
  );
  const promoted = retryVerdict({
    ...base,
    rollouts: [{ ...running, status: 'COMPLETED', phase: 'Succeeded' }],
  });
  assert.match(
    promoted.kind === 'refused' ? promoted.message : '',
    /ended Succeeded, not rolled back or failed/,
  );
  const other = retryVerdict({
    ...base,
    rollouts: [{ ...running, status: 'COMPLETED', phase: 'Failed', revision: 'rev-a' }],
  });
  assert.match(other.kind === 'refused' ? other.message : '', /has not been rolled out yet/);
  const terminated = retryVerdict({
    ...base,
    rollouts: [{ ...running, status: 'TERMINATED', phase: 'Progressing' }],
  });
  assert.equal(terminated.kind, 'retry');
});
