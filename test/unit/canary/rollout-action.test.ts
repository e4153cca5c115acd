import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isSettled,
  rolloutActionActor,
  rolloutActionObject,
  rolloutActionStatusPatch,
  validateRolloutAction,
} from '../../../canary/rollout-action.ts';

const object = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'cutover.dev/v1alpha1',
  kind: 'RolloutAction',
  metadata: { name: 'podinfo-approve-x1', namespace: 'apps', uid: 'u-1' },
  spec: {
    canary: 'podinfo',
    action: 'approve',
    reason: ' ship it ',
    user: 'alice',
    groups: ['release-managers'],
    ...spec,
  },
});

test('a valid RolloutAction reads with its reason trimmed, and its actor is verified with the object as via', () => {
  const validation = validateRolloutAction(object({}));
  assert.ok(validation.ok);
  assert.equal(validation.action.spec.reason, 'ship it');
  assert.deepEqual(rolloutActionActor(validation.action), {
    user: 'alice',
    groups: ['release-managers'],
    verified: true,
    via: 'apps/podinfo-approve-x1',
  });
});

test('every problem at once, each naming the field and the fix', () => {
  const validation = validateRolloutAction(object({ action: 'deploy', reason: '   ', user: undefined }));
  assert.ok(!validation.ok);
  const paths = validation.problems.map((p) => p.path).sort();
  assert.deepEqual(paths, ['spec.action', 'spec.reason', 'spec.user']);
  const action = validation.problems.find((p) => p.path === 'spec.action');
  assert.match(action?.fix ?? '', /promote, abort, approve, pause, resume, rollback, retry/);
  const user = validation.problems.find((p) => p.path === 'spec.user');
  assert.match(user?.fix ?? '', /cutover fills it in/);
});

test('override belongs to approve only; the canary must be an object name', () => {
  const override = validateRolloutAction(object({ action: 'promote', override: true }));
  assert.ok(!override.ok);
  assert.equal(override.problems[0]?.path, 'spec.override');
  assert.match(override.problems[0]?.fix ?? '', /cutover approve CANARY --override/);
  const name = validateRolloutAction(object({ canary: 'Pod Info' }));
  assert.ok(!name.ok);
  assert.equal(name.problems[0]?.path, 'spec.canary');
});

test('the object the CLI creates: generateName <canary>-<action>-, the identity it was given', () => {
  const body = rolloutActionObject({
    namespace: 'apps',
    canary: 'podinfo',
    action: 'approve',
    reason: 'ok',
    override: true,
    user: 'alice',
    groups: ['a', 'b'],
  }) as { metadata: { generateName: string; namespace: string }; spec: Record<string, unknown> };
  assert.equal(body.metadata.generateName, 'podinfo-approve-');
  assert.deepEqual(body.spec, {
    canary: 'podinfo',
    action: 'approve',
    reason: 'ok',
    override: true,
    user: 'alice',
    groups: ['a', 'b'],
  });
  const long = rolloutActionObject({
    namespace: 'a',
    canary: 'x'.repeat(253),
    action: 'resume',
    reason: 'r',
    user: 'u',
    groups: [],
  }) as {
    metadata: { generateName: string };
  };
  assert.ok(long.metadata.generateName.length + 5 <= 253);
});

test('status: settled once Applied or Refused; the message is bounded and stamped', () => {
  assert.equal(isSettled(undefined), false);
  assert.equal(isSettled({ phase: 'Pending' }), false);
  assert.equal(isSettled({ phase: 'Refused' }), true);
  const patch = rolloutActionStatusPatch(
    { phase: 'Refused', reason: 'RolloutRefused', message: 'x'.repeat(5000) },
    new Date('2026-12-01T10:00:00Z'),
  );
  assert.equal(patch.status.message?.length, 2048);
  assert.equal(patch.status.observedAt, '2026-12-01T10:00:00.000Z');
});
