// What an inconclusive tick does under skip and pause, and that each event says which applied.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideInconclusive } from '../../../analysis/inconclusive.ts';

const canary = { name: 'podinfo', namespace: 'test' };

test('skip: the tick is skipped and the event says so', () => {
  const verdict = decideInconclusive(
    canary,
    { action: 'skip', pauseAfter: 3 },
    5,
    'error-rate',
    'no values found',
  );
  assert.deepEqual(verdict, {
    decision: 'skip',
    streak: 6,
    event: 'Inconclusive podinfo.test check error-rate: no values found; tick skipped (inconclusive: skip)',
  });
});

test('pause: counts toward K in a row, then holds for a human decision', () => {
  const policy = { action: 'pause' as const, pauseAfter: 3 };
  const first = decideInconclusive(canary, policy, 0, 'latency', 'Prometheus query failed: timeout');
  assert.equal(first.decision, 'skip');
  assert.match(first.event, /; 1 of 3 in a row before a pause \(inconclusive: pause\)$/);
  const third = decideInconclusive(canary, policy, 2, 'latency', 'Prometheus query failed: timeout');
  assert.equal(third.decision, 'pause');
  assert.equal(third.streak, 3);
  assert.match(
    third.event,
    /analysis paused after 3 inconclusive ticks in a row \(inconclusive: pause\); promote, resume or abort to decide$/,
  );
});
