// When each steering Update is refused, and the words the caller reads (workflows/steering-rules.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Actor, Approval, ApprovalRule } from '../../../canary/change-control.ts';
import { approvalRefusal, tallyApprovals } from '../../../canary/change-control.ts';
import { steeringRefusal, type SteeringView } from '../../../workflows/steering-rules.ts';

const alice: Actor = { user: 'alice', groups: [], verified: true };
const rule: ApprovalRule = { required: 2, users: ['alice', 'bob'], groups: ['sre'], requireVerified: true };
const now = Date.parse('2026-12-01T12:00:00Z');

function view(state: Partial<SteeringView['state']> = {}, extra: Partial<SteeringView> = {}): SteeringView {
  return { state: { stage: 'analysing', approvals: [], ...state }, strategy: 'copy', nowMs: now, ...extra };
}
const request = { actor: alice, reason: 'because' };

test('every action needs a reason and a running rollout', () => {
  assert.match(
    steeringRefusal(view(), 'pause', { actor: alice, reason: '  ' }) ?? '',
    /a reason is required/,
  );
  assert.match(
    steeringRefusal(view({ stage: 'ended', outcome: 'promoted' }), 'abort', request) ?? '',
    /has ended \(promoted\)/,
  );
});

test('promote: refused while promoting, during a window hold, or short of approvals', () => {
  assert.equal(steeringRefusal(view(), 'promote', request), undefined);
  assert.match(steeringRefusal(view({ stage: 'promoting' }), 'promote', request) ?? '', /already promoting/);
  const hold = { kind: 'window' as const, message: 'frozen by RolloutFreeze x', since: '' };
  assert.match(
    steeringRefusal(view({ hold }), 'promote', request) ?? '',
    /frozen by RolloutFreeze x; an approver may override/,
  );
  assert.match(
    steeringRefusal(view({}, { approvalRule: rule }), 'promote', request) ?? '',
    /needs 2 approvals and has 0; may approve: users alice, bob; groups sre/,
  );
});

test('approve: eligible, verified, distinct; override only while a window holds', () => {
  const withRule = (state: Partial<SteeringView['state']> = {}) => view(state, { approvalRule: rule });
  assert.equal(steeringRefusal(withRule(), 'approve', request), undefined);
  assert.match(steeringRefusal(view(), 'approve', request) ?? '', /asks for no approvals/);
  const given: Approval[] = [{ actor: alice, reason: 'x', at: new Date(now).toISOString() }];
  assert.match(
    steeringRefusal(withRule({ approvals: given }), 'approve', request) ?? '',
    /alice has already approved \(1 of 2\)/,
  );
  const sre: Actor = { user: 'erin', groups: ['sre'], verified: true };
  assert.equal(
    steeringRefusal(withRule({ approvals: given }), 'approve', { actor: sre, reason: 'ok' }),
    undefined,
  );
  assert.match(
    steeringRefusal(view(), 'approve', { ...request, override: true }) ?? '',
    /nothing to override/,
  );
  const hold = { kind: 'window' as const, message: 'outside deploy window w', since: '' };
  assert.equal(steeringRefusal(view({ hold }), 'approve', { ...request, override: true }), undefined);
  const typed: Actor = { ...alice, verified: false };
  assert.match(
    steeringRefusal(view({ hold }), 'approve', { actor: typed, reason: 'x', override: true }) ?? '',
    /must come through a RolloutAction/,
  );
});

test('pause and resume', () => {
  const paused = { kind: 'paused' as const, message: 'paused by bob: x', since: '' };
  assert.equal(steeringRefusal(view(), 'pause', request), undefined);
  assert.match(
    steeringRefusal(view({ hold: paused }), 'pause', request) ?? '',
    /already paused \(paused by bob: x\)/,
  );
  assert.match(steeringRefusal(view({ stage: 'keep-warm' }), 'pause', request) ?? '', /promotion has begun/);
  assert.equal(steeringRefusal(view({ hold: paused }), 'resume', request), undefined);
  assert.match(steeringRefusal(view(), 'resume', request) ?? '', /not paused/);
});

test('rollback needs switch mode', () => {
  assert.match(steeringRefusal(view(), 'rollback', request) ?? '', /strategy: switch/);
  assert.equal(steeringRefusal(view({}, { strategy: 'switch' }), 'rollback', request), undefined);
});

test('approvals expire after validFor and unverified ones do not count', () => {
  const old: Approval = { actor: alice, reason: 'x', at: new Date(now - 3_600_000).toISOString() };
  const bob: Approval = {
    actor: { user: 'bob', groups: [], verified: false },
    reason: 'x',
    at: new Date(now).toISOString(),
  };
  assert.deepEqual(tallyApprovals({ ...rule, validForMs: 60_000 }, [old, bob], now).approvedBy, []);
  assert.deepEqual(tallyApprovals(rule, [old, bob], now).approvedBy, ['alice']);
  assert.deepEqual(tallyApprovals({ ...rule, requireVerified: false }, [old, bob], now).approvedBy, [
    'alice',
    'bob',
  ]);
  assert.match(
    approvalRefusal(rule, [], { user: 'mallory', groups: [], verified: true }, now) ?? '',
    /mallory is not an approver/,
  );
});
