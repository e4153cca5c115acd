// FROZEN (see ../rollout-v1.ts): one analysis tick of the first engine: rollback hooks, rollout hooks,
// then the metric checks, each its own activity, and the verdict counted.
import { ActivityFailure } from '@temporalio/workflow';
import { decideIteration } from '../../../analysis/iteration.ts';
import type { IterationOutcome } from '../../../analysis/iteration.ts';
import { metrics } from '../../activities.ts';
import { rollBack } from './endings.ts';
import { callHook, firstFailingHook } from './hooks.ts';
import { alert, report } from './reporting.ts';
import type { LegacyRun, RolloutEvent } from './run.ts';

async function checkMetrics(run: LegacyRun): Promise<IterationOutcome> {
  const { analysis, canary, input } = run;
  // Flagger's order: builtin checks first, then MetricTemplate checks.
  const ordered = [
    ...analysis.metrics.filter((m) => m.source !== 'template'),
    ...analysis.metrics.filter((m) => m.source === 'template'),
  ];
  for (const metric of ordered) {
    let verdict: { passed: boolean; value?: number; message: string; skipped?: boolean };
    try {
      verdict = await metrics.checkMetric({
        canary: { ...run.ref, target: run.target, service: canary.service.name },
        metric,
        prometheusUrl: canary.metricsServer ?? input.options?.prometheusUrl,
        noDataPolicy: input.options?.noDataPolicy,
      });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      const cause = error.cause?.message ?? error.message;
      verdict = { passed: false, message: `Metric query failed for ${metric.name}: ${cause}` };
    }
    run.metricStatus[metric.name] = {
      name: metric.name,
      value: verdict.value,
      thresholdRange: metric.thresholdRange,
      passed: verdict.passed,
      message: verdict.message,
      at: new Date().toISOString(),
    };
    if (!verdict.passed) return { passed: false, check: metric.name, message: verdict.message };
  }
  return { passed: true };
}

/** One analysis tick: rollback hooks, rollout hooks, metrics; counts the verdict. */
export async function analyseOnce(run: LegacyRun): Promise<'advance' | 'halt' | 'promote'> {
  const { canary, ns } = run;
  for (const hook of run.hooksOf('rollback')) {
    const result = await callHook(run, hook);
    if (result.ok)
      await rollBack(run, [
        { type: 'Warning', message: `Rolling back ${canary.name}.${ns} manual webhook invoked` },
      ]);
  }
  const failedHook = await firstFailingHook(run, 'rollout');
  const outcome: IterationOutcome = failedHook
    ? {
        passed: false,
        check: failedHook.name,
        message: `Halt ${canary.name}.${ns} advancement external check ${failedHook.name} failed ${failedHook.message}`,
      }
    : await checkMetrics(run);
  const verdict = decideIteration(run.ref, run.state, outcome);
  run.state = verdict.state;
  const events: RolloutEvent[] = verdict.events.map((text) => ({
    type: outcome.passed ? 'Normal' : 'Warning',
    message: text,
  }));
  if (verdict.decision === 'rollback') await rollBack(run, events);
  await report(run, events);
  if (!outcome.passed) await alert(run, 'warn', events[0]?.message ?? 'check failed');
  return verdict.decision === 'rollback' ? 'halt' : verdict.decision;
}
