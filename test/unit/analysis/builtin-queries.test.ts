import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { builtinMetricValue, builtinQuery, isBuiltinMetric } from '../../../analysis/builtin-queries.ts';

const canary = { name: 'podinfo', namespace: 'test', target: 'podinfo', interval: '30s' };

function rendered(name: 'request-success-rate' | 'request-duration'): string {
  const result = builtinQuery(name, canary);
  assert.ok(result.ok);
  return result.query;
}

describe('builtin queries of the kubernetes provider', () => {
  it('computes the success rate as the percentage of non-5xx requests of the canary pods', () => {
    assert.equal(
      rendered('request-success-rate'),
      'sum(rate(http_request_duration_seconds_count{kubernetes_namespace="test", ' +
        'kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)", status!~"5.*"}[30s])) / ' +
        'sum(rate(http_request_duration_seconds_count{kubernetes_namespace="test", ' +
        'kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[30s])) * 100',
    );
  });

  it('computes the duration as the P99 of the canary pods by bucket', () => {
    assert.equal(
      rendered('request-duration'),
      'histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{kubernetes_namespace="test", ' +
        'kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[30s])) by (le))',
    );
  });

  it('matches the green pods and never the primary pods', () => {
    const regex = /^podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)$/; // Prometheus anchors regex matchers
    assert.ok(regex.test('podinfo-7d9f8b6c5-x2x4z'));
    assert.ok(!regex.test('podinfo-primary-7d9f8b6c5-x2x4z'));
  });

  it('compares request-duration in whole milliseconds', () => {
    assert.equal(builtinMetricValue('request-duration', 0.4567), 456);
    assert.equal(builtinMetricValue('request-success-rate', 99.5), 99.5);
  });

  it('knows which names are builtin', () => {
    assert.ok(isBuiltinMetric('request-success-rate'));
    assert.ok(isBuiltinMetric('request-duration'));
    assert.ok(!isBuiltinMetric('error-rate'));
  });
});
