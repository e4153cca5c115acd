// One post-promotion check during switch mode's keep-warm window: the policy's metrics (or the
// Canary's) on live traffic, in one local activity; the workflow applies the same pure verdict.
import { decidePostPromotion } from '../../analysis/post-promotion.ts';
import { localStepOptions, runAnalysisTick, stepBudgetMs } from '../activities.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { noteMessage, rolloutContext } from '../rollout-steps.ts';

export async function runPostPromotionCheck(run: RolloutRun): Promise<Ending | undefined> {
  const { state } = run;
  const window = state.keepWarm;
  const metrics = run.input.policy?.switch?.analysis.metrics ?? [];
  if (!window || metrics.length === 0) return undefined;
  const counters = { checks: window.checks, failedChecks: window.failedChecks, threshold: window.threshold };
  const result = await runAnalysisTick.executeWithOptions(
    localStepOptions(
      stepBudgetMs(run.hooksOf('event'), metrics.length),
      `post-promotion check ${window.checks + 1}`,
    ),
    [
      {
        context: rolloutContext(run),
        key: run.nextStepKey(),
        state: state.analysis,
        rollbackHooks: [],
        rolloutHooks: [],
        metrics,
        postPromotion: counters,
        ...((run.canary.metricsServer ?? run.input.options?.prometheusUrl)
          ? { prometheusUrl: run.canary.metricsServer ?? run.input.options?.prometheusUrl }
          : {}),
      },
    ],
  );
  for (const metric of result.metrics) state.metrics[metric.name] = metric;
  if (!result.canaryFound)
    return run.rollBack(
      `Canary ${run.dotted} was deleted during the keep-warm window; traffic switched back to blue`,
      'failed',
    );
  if (!result.outcome) return undefined;
  const verdict = decidePostPromotion(run.canary, counters, result.outcome);
  state.keepWarm = { ...window, ...verdict.state };
  state.lastTick = {
    at: new Date().toISOString(),
    hooks: [],
    metrics: result.metrics,
    outcome: result.outcome,
    decision: verdict.decision,
  };
  const last = verdict.events[verdict.events.length - 1];
  if (last) noteMessage(run, last);
  if (verdict.decision === 'flip-back') {
    return {
      outcome: 'rolled-back',
      reason: `${last ?? 'post-promotion checks failed'}; traffic switched back to blue`,
      rollBack: { events: [] },
    };
  }
  return undefined;
}
