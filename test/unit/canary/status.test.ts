import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CanaryPhase,
  isCanaryPhase,
  promotedCondition,
  promotedStatus,
  withPromotedCondition,
} from '../../../canary/status.ts';

test('Promoted is True when initialized or succeeded, False when failed, Unknown otherwise', () => {
  assert.equal(promotedStatus(CanaryPhase.Initialized), 'True');
  assert.equal(promotedStatus(CanaryPhase.Succeeded), 'True');
  assert.equal(promotedStatus(CanaryPhase.Failed), 'False');
  for (const phase of [CanaryPhase.Progressing, CanaryPhase.WaitingPromotion, CanaryPhase.Promoting]) {
    assert.equal(promotedStatus(phase), 'Unknown');
  }
});

test('the condition reason is the phase and the message is Flagger\u2019s', () => {
  const condition = promotedCondition({ phase: CanaryPhase.Succeeded, now: '2025-01-01T00:00:00Z' });
  assert.deepEqual(condition, {
    type: 'Promoted',
    status: 'True',
    reason: 'Succeeded',
    message: 'Canary analysis completed successfully, promotion finished.',
    lastUpdateTime: '2025-01-01T00:00:00Z',
    lastTransitionTime: '2025-01-01T00:00:00Z',
  });
});

test('lastTransitionTime moves only when the condition status changes', () => {
  const first = withPromotedCondition({ phase: CanaryPhase.Progressing, now: 't1' });
  const second = withPromotedCondition({ phase: CanaryPhase.Promoting, now: 't2', previous: first });
  assert.equal(second.length, 1);
  assert.equal(second[0]?.lastTransitionTime, 't1');
  assert.equal(second[0]?.lastUpdateTime, 't2');
  const third = withPromotedCondition({ phase: CanaryPhase.Succeeded, now: 't3', previous: second });
  assert.equal(third[0]?.lastTransitionTime, 't3');
});

test('keeps other controllers\u2019 conditions', () => {
  const previous = [{ type: 'Ready', status: 'True' }];
  const conditions = withPromotedCondition({ phase: CanaryPhase.Failed, now: 't', previous });
  assert.deepEqual(
    conditions.map((c) => c.type),
    ['Ready', 'Promoted'],
  );
});

test('recognises the phase strings and nothing else', () => {
  assert.ok(isCanaryPhase('WaitingPromotion'));
  assert.ok(!isCanaryPhase('waitingpromotion'));
  assert.ok(!isCanaryPhase(3));
});
