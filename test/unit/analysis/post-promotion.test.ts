import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decidePostPromotion } from '../../../analysis/post-promotion.ts';

const canary = { name: 'podinfo', namespace: 'test' };
const fresh = { checks: 0, failedChecks: 0, threshold: 2 };

test('a passing post-promotion check keeps green and writes no event', () => {
  const verdict = decidePostPromotion(canary, fresh, { passed: true });
  assert.equal(verdict.decision, 'keep');
  assert.deepEqual(verdict.state, { checks: 1, failedChecks: 0, threshold: 2 });
  assert.deepEqual(verdict.events, []);
});

test('a failed check is counted and said; the threshold flips back to blue', () => {
  const first = decidePostPromotion(canary, fresh, {
    passed: false,
    check: 'sr',
    message: 'success rate 90% < 99%',
  });
  assert.equal(first.decision, 'keep');
  assert.deepEqual(first.events, [
    'Post-promotion check of podinfo.test failed (1/2): success rate 90% < 99%',
  ]);
  const second = decidePostPromotion(canary, first.state, { passed: false, check: 'sr', message: 'again' });
  assert.equal(second.decision, 'flip-back');
  assert.equal(
    second.events[1],
    'Rolling back podinfo.test post-promotion failed checks threshold reached 2',
  );
});

test('a threshold of 0 means 1, as in Flagger', () => {
  const verdict = decidePostPromotion(
    canary,
    { ...fresh, threshold: 0 },
    { passed: false, check: 'sr', message: 'x' },
  );
  assert.equal(verdict.decision, 'flip-back');
});
