import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canaryStatusValue, createControllerMetrics } from '../../../worker/controller-metrics.ts';
import { CanaryPhase } from '../../../canary/status.ts';
import { evaluateMetricCheck } from '../../../analysis/metric-check.ts';

const podinfo = { name: 'podinfo', namespace: 'shop' };

async function exposition(metrics: ReturnType<typeof createControllerMetrics>): Promise<string> {
  return metrics.registry.metrics();
}

function lines(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

test("Flagger's metric names, help strings and label names, so its dashboards keep working", async () => {
  const text = await exposition(createControllerMetrics({ version: '0.1.0', processMetrics: false }));
  for (const header of [
    '# HELP flagger_info Flagger version and mesh provider information',
    '# TYPE flagger_info gauge',
    '# HELP flagger_canary_total Total number of canary object',
    '# HELP flagger_canary_status Last canary analysis result',
    '# HELP flagger_canary_weight The virtual service destination weight current value',
    '# HELP flagger_canary_duration_seconds Seconds spent performing canary analysis.',
    '# TYPE flagger_canary_duration_seconds histogram',
    '# HELP flagger_canary_metric_analysis Last canary analysis result per metric',
    '# HELP flagger_canary_successes_total Total number of canary successes',
    '# TYPE flagger_canary_successes_total counter',
    '# HELP flagger_canary_failures_total Total number of canary failures',
    '# TYPE flagger_canary_failures_total counter',
  ]) {
    assert.ok(text.includes(`${header}\n`), header);
  }
  assert.deepEqual(lines(text, 'flagger_info'), [
    'flagger_info{version="0.1.0",mesh_provider="kubernetes"} 1',
  ]);
});

test("canary status follows Flagger's rule: 0 Progressing, 2 Failed, 1 anything else", async () => {
  assert.equal(canaryStatusValue(CanaryPhase.Progressing), 0);
  assert.equal(canaryStatusValue(CanaryPhase.Failed), 2);
  for (const phase of [
    CanaryPhase.Initialized,
    CanaryPhase.Succeeded,
    CanaryPhase.Waiting,
    CanaryPhase.Promoting,
  ]) {
    assert.equal(canaryStatusValue(phase), 1, phase);
  }
  const metrics = createControllerMetrics({ version: 'v', processMetrics: false });
  metrics.recordCanaryPhase(podinfo, CanaryPhase.Progressing);
  metrics.recordCanaryPhase({ name: 'cart', namespace: 'shop', targetName: 'cart-api' }, CanaryPhase.Failed);
  assert.deepEqual(lines(await exposition(metrics), 'flagger_canary_status'), [
    'flagger_canary_status{name="podinfo",namespace="shop"} 0',
    'flagger_canary_status{name="cart-api",namespace="shop"} 2',
  ]);
});

test('weight: the green Deployment gets 100 while it is promoted, the primary 100 otherwise', async () => {
  const metrics = createControllerMetrics({ version: 'v', processMetrics: false });
  const weights = async () => lines(await exposition(metrics), 'flagger_canary_weight');
  metrics.recordCanaryPhase(podinfo, CanaryPhase.Progressing);
  assert.deepEqual(await weights(), [
    'flagger_canary_weight{workload="podinfo-primary",namespace="shop"} 100',
    'flagger_canary_weight{workload="podinfo",namespace="shop"} 0',
  ]);
  metrics.recordCanaryPhase(podinfo, CanaryPhase.Promoting);
  assert.deepEqual(await weights(), [
    'flagger_canary_weight{workload="podinfo-primary",namespace="shop"} 0',
    'flagger_canary_weight{workload="podinfo",namespace="shop"} 100',
  ]);
  metrics.recordCanaryPhase(podinfo, CanaryPhase.Succeeded);
  assert.deepEqual(await weights(), [
    'flagger_canary_weight{workload="podinfo-primary",namespace="shop"} 100',
    'flagger_canary_weight{workload="podinfo",namespace="shop"} 0',
  ]);
});

test('canary totals per namespace replace the previous set', async () => {
  const metrics = createControllerMetrics({ version: 'v', processMetrics: false });
  metrics.setCanaryTotals({ shop: 2, billing: 1 });
  metrics.setCanaryTotals({ shop: 3 });
  assert.deepEqual(lines(await exposition(metrics), 'flagger_canary_total'), [
    'flagger_canary_total{namespace="shop"} 3',
  ]);
});

test('rollout ends count as successes or failures with the blue-green strategy label', async () => {
  const metrics = createControllerMetrics({ version: 'v', processMetrics: false });
  metrics.countRolloutEnd(podinfo, 'promoted');
  metrics.countRolloutEnd(podinfo, 'promoted', { analysisSkipped: true });
  metrics.countRolloutEnd(podinfo, 'rolled-back');
  metrics.countRolloutEnd(podinfo, 'failed');
  const text = await exposition(metrics);
  assert.deepEqual(lines(text, 'flagger_canary_successes_total'), [
    'flagger_canary_successes_total{name="podinfo",namespace="shop",deployment_strategy="blue-green",analysis_status="completed"} 1',
    'flagger_canary_successes_total{name="podinfo",namespace="shop",deployment_strategy="blue-green",analysis_status="skipped"} 1',
  ]);
  assert.deepEqual(lines(text, 'flagger_canary_failures_total'), [
    'flagger_canary_failures_total{name="podinfo",namespace="shop",deployment_strategy="blue-green",analysis_status="completed"} 2',
  ]);
});

test('request-duration is exported in seconds as Flagger does, though the check compares milliseconds', async () => {
  const metrics = createControllerMetrics({ version: 'v', processMetrics: false });
  // The builtin query answers 0.004 (seconds); the verdict carries 4 ms, the unit it is in, and the
  // worker passes both on.
  const verdict = evaluateMetricCheck({
    name: 'request-duration',
    canary: { name: 'podinfo', namespace: 'shop', target: 'podinfo' },
    result: { kind: 'value', value: 0.004 },
    thresholdRange: { max: 500 },
  });
  assert.deepEqual([verdict.value, verdict.valueUnit], [4, 'ms']);
  metrics.setMetricAnalysis(podinfo, 'request-duration', verdict.value ?? NaN, verdict.valueUnit);
  const rate = evaluateMetricCheck({
    name: 'request-success-rate',
    canary: { name: 'podinfo', namespace: 'shop', target: 'podinfo' },
    result: { kind: 'value', value: 99.5 },
    thresholdRange: { min: 99 },
  });
  metrics.setMetricAnalysis(podinfo, 'request-success-rate', rate.value ?? NaN, rate.valueUnit);
  assert.deepEqual(lines(await exposition(metrics), 'flagger_canary_metric_analysis'), [
    'flagger_canary_metric_analysis{name="podinfo",namespace="shop",metric="request-duration"} 0.004',
    'flagger_canary_metric_analysis{name="podinfo",namespace="shop",metric="request-success-rate"} 99.5',
  ]);
});

test('metric analysis values and rollout durations per canary', async () => {
  const metrics = createControllerMetrics({ version: 'v', processMetrics: false });
  metrics.setMetricAnalysis(podinfo, 'request-success-rate', 99.5);
  metrics.setMetricAnalysis(podinfo, 'request-duration', 0.25);
  metrics.observeRolloutDuration(podinfo, 95);
  const text = await exposition(metrics);
  assert.deepEqual(lines(text, 'flagger_canary_metric_analysis'), [
    'flagger_canary_metric_analysis{name="podinfo",namespace="shop",metric="request-success-rate"} 99.5',
    'flagger_canary_metric_analysis{name="podinfo",namespace="shop",metric="request-duration"} 0.25',
  ]);
  assert.ok(
    text.includes('flagger_canary_duration_seconds_bucket{le="60",name="podinfo",namespace="shop"} 0\n'),
  );
  assert.ok(
    text.includes('flagger_canary_duration_seconds_bucket{le="120",name="podinfo",namespace="shop"} 1\n'),
  );
  assert.ok(text.includes('flagger_canary_duration_seconds_sum{name="podinfo",namespace="shop"} 95\n'));
  assert.ok(text.includes('flagger_canary_duration_seconds_count{name="podinfo",namespace="shop"} 1\n'));
});

test("a deleted Canary's gauges go away; other canaries' stay", async () => {
  const metrics = createControllerMetrics({ version: 'v', processMetrics: false });
  const cart = { name: 'cart', namespace: 'shop' };
  for (const canary of [podinfo, cart]) {
    metrics.recordCanaryPhase(canary, CanaryPhase.Succeeded);
    metrics.setMetricAnalysis(canary, 'request-success-rate', 100);
  }
  metrics.forgetCanary(podinfo);
  const text = await exposition(metrics);
  assert.equal(text.includes('"podinfo'), false);
  assert.equal(lines(text, 'flagger_canary_status').length, 1);
  assert.equal(lines(text, 'flagger_canary_weight').length, 2);
  assert.equal(lines(text, 'flagger_canary_metric_analysis').length, 1);
});

test('setInfo changes the labels rather than adding a second series; process metrics are on by default', async () => {
  const metrics = createControllerMetrics({ version: '0.1.0' });
  metrics.setInfo({ version: '0.2.0' });
  const text = await exposition(metrics);
  assert.deepEqual(lines(text, 'flagger_info'), [
    'flagger_info{version="0.2.0",mesh_provider="kubernetes"} 1',
  ]);
  assert.match(text, /^process_cpu_user_seconds_total \d/m);
  assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
});
