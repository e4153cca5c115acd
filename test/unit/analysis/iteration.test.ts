import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideIteration, preRolloutOutcome, type AnalysisState } from '../../../analysis/iteration.ts';

const canary = { name: 'podinfo', namespace: 'test' };
const start: AnalysisState = { iteration: 0, iterations: 3, failedChecks: 0, threshold: 2 };
const failed = {
  passed: false as const,
  check: 'request-success-rate',
  message: 'Halt podinfo.test advancement success rate 95.00% < 99%',
};

describe('decideIteration', () => {
  it('advances a good iteration', () => {
    const verdict = decideIteration(canary, start, { passed: true });
    assert.equal(verdict.decision, 'advance');
    assert.deepEqual(verdict.state, { ...start, iteration: 1 });
    assert.deepEqual(verdict.events, ['Advance podinfo.test canary iteration 1/3']);
  });

  it('promotes right after the N-th good iteration', () => {
    const verdict = decideIteration(canary, { ...start, iteration: 2 }, { passed: true });
    assert.equal(verdict.decision, 'promote');
    assert.equal(verdict.state.iteration, 3);
    assert.deepEqual(verdict.events, ['Advance podinfo.test canary iteration 3/3']);
  });

  it('keeps promoting without advancing past N while promotion waits for approval', () => {
    const done = { ...start, iteration: 3 };
    const verdict = decideIteration(canary, done, { passed: true });
    assert.equal(verdict.decision, 'promote');
    assert.deepEqual(verdict.state, done);
    assert.deepEqual(verdict.events, []);
  });

  it('halts on a failed check below the threshold without advancing', () => {
    const verdict = decideIteration(canary, { ...start, iteration: 1 }, failed);
    assert.equal(verdict.decision, 'halt');
    assert.deepEqual(verdict.state, { ...start, iteration: 1, failedChecks: 1 });
    assert.deepEqual(verdict.events, [failed.message]);
  });

  it('rolls back after 2 failed success-rate checks with threshold 2', () => {
    const first = decideIteration(canary, start, failed);
    const good = decideIteration(canary, first.state, { passed: true });
    const second = decideIteration(canary, good.state, failed);
    assert.equal(second.decision, 'rollback');
    assert.equal(second.state.failedChecks, 2);
    assert.deepEqual(second.events, [
      failed.message,
      'Rolling back podinfo.test failed checks threshold reached 2',
    ]);
  });

  it('treats an unset threshold as 1, as Flagger does', () => {
    assert.equal(decideIteration(canary, { ...start, threshold: 0 }, failed).decision, 'rollback');
  });

  it('rolls back a failure during the wait for promotion approval', () => {
    const verdict = decideIteration(canary, { ...start, iteration: 3, failedChecks: 1 }, failed);
    assert.equal(verdict.decision, 'rollback');
  });
});

describe('preRolloutOutcome', () => {
  it('proceeds when the pre-rollout hooks pass', () => {
    const verdict = preRolloutOutcome(canary, start, { passed: true, hooks: ['smoke'] });
    assert.equal(verdict.decision, 'proceed');
    assert.deepEqual(verdict.state, start);
    assert.deepEqual(verdict.events, ['Pre-rollout check smoke passed']);
  });

  it('counts a pre-rollout failure as one failed check', () => {
    const verdict = preRolloutOutcome(canary, start, {
      passed: false,
      hook: 'smoke',
      error: 'HTTP 500: boom',
    });
    assert.equal(verdict.decision, 'halt');
    assert.equal(verdict.state.failedChecks, 1);
    assert.equal(verdict.state.iteration, 0);
    assert.deepEqual(verdict.events, [
      'Halt podinfo.test advancement pre-rollout check smoke failed HTTP 500: boom',
    ]);
  });

  it('rolls back when a pre-rollout failure reaches the threshold', () => {
    const verdict = preRolloutOutcome(
      canary,
      { ...start, failedChecks: 1 },
      { passed: false, hook: 'smoke', error: 'boom' },
    );
    assert.equal(verdict.decision, 'rollback');
    assert.equal(verdict.events[1], 'Rolling back podinfo.test failed checks threshold reached 2');
  });
});
