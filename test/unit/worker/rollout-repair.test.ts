import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abandonedRolloutsQuery, abandonedRolloutMessage } from '../../../worker/rollout-repair.ts';

test('the sweep asks visibility for rollouts closed without their own result, in the watched namespace', () => {
  const since = new Date('2026-12-01T10:00:00.000Z');
  assert.equal(
    abandonedRolloutsQuery(since),
    "WorkflowType = 'rolloutWorkflow' AND ExecutionStatus IN ('Terminated', 'TimedOut', 'Failed', 'Canceled') AND CloseTime > '2026-12-01T10:00:00.000Z'",
  );
  assert.match(abandonedRolloutsQuery(since, 'apps'), / AND CutoverNamespace = 'apps'$/);
});

test('the repair message says how the rollout ended and what to do', () => {
  assert.equal(
    abandonedRolloutMessage('podinfo.test', 'cutover/test/podinfo/rollout/abc/1234', 'TERMINATED'),
    'Rolling back podinfo.test: rollout cutover/test/podinfo/rollout/abc/1234 was terminated in Temporal; green scaled down. Fix the cause, then change the target to roll out again',
  );
});
