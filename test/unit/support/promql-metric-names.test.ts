import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grafanaVariableMetricNames, promqlMetricNames } from '../../support/promql-metric-names.ts';

test('the metrics of a dashboard query: selectors, not functions, labels, grouping, numbers or variables', () => {
  assert.deepEqual(
    promqlMetricNames(
      'histogram_quantile(0.95, sum by (le, activity_type) (rate(temporal_activity_execution_latency_bucket{task_queue=~"$task_queue", job=~"a{b}[c]"}[$__rate_interval])))',
    ),
    ['temporal_activity_execution_latency_bucket'],
  );
  assert.deepEqual(
    promqlMetricNames(
      'sum(increase(flagger_canary_duration_seconds_sum[1h])) / on(name) group_left(version) sum(increase(flagger_canary_duration_seconds_count[1h] offset 5m)) * 1e3',
    ),
    ['flagger_canary_duration_seconds_count', 'flagger_canary_duration_seconds_sum'],
  );
  assert.deepEqual(promqlMetricNames('count(flagger_canary_status{name=~"$canary"} == 2) or vector(0)'), [
    'flagger_canary_status',
  ]);
  assert.deepEqual(promqlMetricNames('up and bool process_open_fds > 0 unless nodejs_version_info'), [
    'nodejs_version_info',
    'process_open_fds',
    'up',
  ]);
});

test('the metric of a Grafana variable query', () => {
  assert.deepEqual(grafanaVariableMetricNames('label_values(flagger_canary_status{job=~"$job"}, name)'), [
    'flagger_canary_status',
  ]);
  assert.deepEqual(grafanaVariableMetricNames('label_values(flagger_info, job)'), ['flagger_info']);
  assert.deepEqual(grafanaVariableMetricNames('label_values(job)'), []);
  assert.deepEqual(grafanaVariableMetricNames('query_result(topk(3, flagger_canary_total))'), [
    'flagger_canary_total',
  ]);
});
