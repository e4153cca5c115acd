import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateMetricCheck } from '../../../analysis/metric-check.ts';

const canary = { name: 'podinfo', namespace: 'test', target: 'podinfo' };

describe('evaluateMetricCheck', () => {
  it('halts on a success rate below min, in Flagger words', () => {
    const verdict = evaluateMetricCheck({
      name: 'request-success-rate',
      canary,
      result: { kind: 'value', value: 95 },
      thresholdRange: { min: 99 },
    });
    assert.deepEqual(verdict, {
      passed: false,
      value: 95,
      message: 'Halt podinfo.test advancement success rate 95.00% < 99%',
    });
  });

  it('passes a success rate within range', () => {
    const verdict = evaluateMetricCheck({
      name: 'request-success-rate',
      canary,
      result: { kind: 'value', value: 99.5 },
      thresholdRange: { min: 99 },
    });
    assert.equal(verdict.passed, true);
    assert.equal(verdict.value, 99.5);
    assert.equal(verdict.message, 'Metric request-success-rate 99.50% passed for podinfo.test (min 99%)');
  });

  it('compares request-duration in milliseconds and prints Go durations', () => {
    const verdict = evaluateMetricCheck({
      name: 'request-duration',
      canary,
      result: { kind: 'value', value: 1.5 },
      thresholdRange: { max: 500 },
    });
    assert.deepEqual(verdict, {
      passed: false,
      value: 1500,
      valueUnit: 'ms',
      message: 'Halt podinfo.test advancement request duration 1.5s > 500ms',
    });
    assert.equal(
      evaluateMetricCheck({
        name: 'request-duration',
        canary,
        result: { kind: 'value', value: 0.4999 },
        thresholdRange: { max: 500 },
      }).passed,
      true,
    );
  });

  it('halts a template metric above max with its name and two decimals', () => {
    const verdict = evaluateMetricCheck({
      name: 'error-rate',
      canary,
      result: { kind: 'value', value: 2.345 },
      thresholdRange: { max: 1 },
    });
    assert.equal(verdict.passed, false);
    assert.equal(verdict.message, 'Halt podinfo.test advancement error-rate 2.35 > 1');
  });

  it('fails by default when there is no data, and says the policy', () => {
    const verdict = evaluateMetricCheck({
      name: 'request-success-rate',
      canary,
      result: { kind: 'no-data', reason: 'no values found' },
      thresholdRange: { min: 99 },
    });
    assert.equal(verdict.passed, false);
    assert.equal(verdict.noDataPolicy, 'fail');
    assert.equal(
      verdict.message,
      'Halt advancement no values found for kubernetes metric request-success-rate probably podinfo.test ' +
        'is not receiving traffic: no values found (no-data policy: fail)',
    );
  });

  it('uses the builtin no-traffic wording for request-duration', () => {
    const verdict = evaluateMetricCheck({
      name: 'request-duration',
      canary,
      result: { kind: 'no-data', reason: 'no values found' },
      thresholdRange: { max: 500 },
    });
    assert.equal(
      verdict.message,
      'Halt advancement no values found for kubernetes metric request-duration probably podinfo.test ' +
        'is not receiving traffic (no-data policy: fail)',
    );
  });

  it('counts no data as passed under the pass policy', () => {
    const verdict = evaluateMetricCheck({
      name: 'error-rate',
      canary,
      result: { kind: 'no-data', reason: 'no values found' },
      thresholdRange: { max: 1 },
      noDataPolicy: 'pass',
    });
    assert.equal(verdict.passed, true);
    assert.equal(verdict.skipped, undefined);
    assert.equal(
      verdict.message,
      'Counted as passed: no values found for custom metric: error-rate: no values found (no-data policy: pass)',
    );
  });

  it('skips the check under the skip policy', () => {
    const verdict = evaluateMetricCheck({
      name: 'error-rate',
      canary,
      source: 'query',
      result: { kind: 'no-data', reason: 'no values found' },
      thresholdRange: { max: 1 },
      noDataPolicy: 'skip',
    });
    assert.equal(verdict.passed, true);
    assert.equal(verdict.skipped, true);
    assert.match(verdict.message, /no values found for metric: error-rate \(no-data policy: skip\)$/);
  });

  it('always fails a query error, whatever the no-data policy', () => {
    const verdict = evaluateMetricCheck({
      name: 'error-rate',
      canary,
      result: { kind: 'error', message: 'bad_data: parse error at char 3' },
      thresholdRange: { max: 1 },
      noDataPolicy: 'pass',
    });
    assert.equal(verdict.passed, false);
    assert.equal(verdict.message, 'Metric query failed for error-rate: bad_data: parse error at char 3');
  });
});
