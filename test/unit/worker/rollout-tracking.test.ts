// The worker's per-canary bookkeeping for /metrics holds what exists and what is in progress, never a
// record of every rollout: after many completed rollouts and the Canaries' deletion, nothing is left.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createControllerMetrics } from '../../../worker/controller-metrics.ts';
import { canaryTotals, trackRollouts } from '../../../worker/main.ts';
import type { CanaryObject } from '../../../worker/watcher.ts';

function canary(i: number, phase: string): CanaryObject {
  return {
    metadata: { name: `app-${i}`, namespace: `ns-${i % 7}` },
    spec: { targetRef: { name: `app-${i}` } },
    status: { phase },
  };
}

function seriesCount(text: string, name: string): number {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`)).length;
}

test('completed rollouts leave nothing behind; deleted Canaries lose their series', async () => {
  const metrics = createControllerMetrics({ version: 'test', processMetrics: false });
  const rollouts = trackRollouts(metrics);
  const totals = canaryTotals(metrics);
  const count = 300;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < count; i++) {
      let previous: CanaryObject | undefined;
      for (const phase of ['Initialized', 'Progressing', 'Promoting', 'Finalising', 'Succeeded']) {
        const next = canary(i, phase);
        rollouts.track(next, previous);
        totals.seen(`ns-${i % 7}/app-${i}`, `ns-${i % 7}`);
        metrics.setMetricAnalysis(
          { name: `app-${i}`, namespace: `ns-${i % 7}` },
          'request-success-rate',
          99.9,
        );
        previous = next;
      }
    }
    assert.equal(rollouts.inProgress(), 0, 'every rollout ended');
  }
  assert.equal(totals.size(), count);
  const busy = await metrics.registry.metrics();
  assert.equal(seriesCount(busy, 'flagger_canary_total'), 7);
  assert.equal(seriesCount(busy, 'flagger_canary_status'), count);

  // A rollout in progress when its Canary is deleted is forgotten too.
  rollouts.track(canary(0, 'Progressing'), canary(0, 'Succeeded'));
  assert.equal(rollouts.inProgress(), 1);
  for (let i = 0; i < count; i++) {
    const ref = { name: `app-${i}`, namespace: `ns-${i % 7}` };
    totals.deleted(`${ref.namespace}/${ref.name}`);
    rollouts.forget(`${ref.namespace}/${ref.name}`);
    metrics.forgetCanary(ref);
  }
  assert.equal(rollouts.inProgress(), 0);
  assert.equal(totals.size(), 0);
  const after = await metrics.registry.metrics();
  for (const gauge of [
    'flagger_canary_total',
    'flagger_canary_status',
    'flagger_canary_weight',
    'flagger_canary_metric_analysis',
  ]) {
    assert.equal(seriesCount(after, gauge), 0, gauge);
  }
});
