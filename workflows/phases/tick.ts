// One analysis tick from the workflow's side: one local activity runs the hooks and checks and
// writes the Canary; the workflow applies the same pure verdict to its state and decides what next.
import { decideInconclusive } from '../../analysis/inconclusive.ts';
import { decideIteration } from '../../analysis/iteration.ts';
import type { AnalysisTickResult } from '../../activities/rollout/index.ts';
import { CanaryPhase } from '../../canary/status.ts';
import type { ResolvedWebhook } from '../../canary/validate.ts';
import { localStepOptions, runAnalysisTick, stepBudgetMs } from '../activities.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { enterPhase, noteMessage, rolloutContext } from '../rollout-steps.ts';

/** While the promotion waits: the confirm-promotion hooks, and whether the checks run as well. */
export interface PromotionGate {
  hooks: ResolvedWebhook[];
  analyse: boolean;
}

export type TickEnd = Ending | 'approved' | 'held' | 'counted';

export async function runTick(run: RolloutRun, gate?: PromotionGate): Promise<TickEnd> {
  const { canary, state } = run;
  const analysis = canary.analysis;
  state.ticksThisRun++;
  const analyse = gate?.analyse ?? true;
  const rollbackHooks = analyse ? run.hooksOf('rollback') : [];
  const rolloutHooks = analyse ? run.hooksOf('rollout') : [];
  const hooks = [...rollbackHooks, ...rolloutHooks, ...(gate?.hooks ?? []), ...run.hooksOf('event')];
  const metrics = analyse ? analysis.metrics : [];
  const summary = gate
    ? `promotion gate${analyse ? ' + analysis' : ''}`
    : `analysis tick ${state.analysis.iteration + 1}/${state.analysis.iterations}`;
  const result: AnalysisTickResult = await runAnalysisTick.executeWithOptions(
    localStepOptions(stepBudgetMs(hooks, metrics.length), summary),
    [
      {
        context: rolloutContext(run),
        key: run.nextStepKey(),
        state: state.analysis,
        rollbackHooks,
        rolloutHooks,
        ...(gate
          ? { confirmPromotionHooks: gate.hooks, announceHold: !state.announced.confirmPromotion }
          : {}),
        analyseWhenHeld: analyse,
        metrics,
        ...((canary.metricsServer ?? run.input.options?.prometheusUrl)
          ? { prometheusUrl: canary.metricsServer ?? run.input.options?.prometheusUrl }
          : {}),
        ...(run.input.options?.noDataPolicy ? { noDataPolicy: run.input.options.noDataPolicy } : {}),
        ...inconclusiveInput(run),
      },
    ],
  );
  for (const hook of result.hooks) state.hooks[hook.name] = hook;
  for (const metric of result.metrics) state.metrics[metric.name] = metric;
  return decide(run, result);
}

/** A policy's `analysis.inconclusive` when it is not `fail` (which needs nothing: it is Flagger's). */
function inconclusiveInput(run: RolloutRun) {
  const policy = run.input.policy?.inconclusive;
  if (!policy || policy.action === 'fail') return {};
  return { inconclusive: { policy, streak: run.state.inconclusiveStreak } };
}

function decide(run: RolloutRun, result: AnalysisTickResult): TickEnd {
  const { state } = run;
  const record = (decision: string): void => {
    state.lastTick = {
      at: new Date().toISOString(),
      hooks: result.hooks,
      metrics: result.metrics,
      ...(result.outcome ? { outcome: result.outcome } : {}),
      decision,
    };
  };
  if (!result.canaryFound) {
    record('canary deleted');
    return { outcome: 'failed', reason: `Canary ${run.dotted} was deleted: the rollout stops` };
  }
  if (result.promotionApproved) {
    record('promotion approved');
    return 'approved';
  }
  if (result.heldBy && !state.announced.confirmPromotion) {
    state.announced.confirmPromotion = true;
    enterPhase(run, CanaryPhase.WaitingPromotion);
    noteMessage(run, `Halt ${run.dotted} advancement waiting for promotion approval ${result.heldBy}`);
  }
  if (result.rollbackRequestedBy) {
    record(`rollback hook ${result.rollbackRequestedBy}`);
    return run.rollBack(`Rolling back ${run.dotted} manual webhook invoked`);
  }
  if (!result.outcome) {
    record(`held by ${result.heldBy ?? 'a confirm-promotion hook'}`);
    return 'held';
  }
  const policy = run.input.policy?.inconclusive;
  if (!result.outcome.passed && result.outcome.inconclusive && policy && policy.action !== 'fail') {
    // The same pure verdict the tick applied and wrote: skip, or hold for a human decision.
    const { outcome } = result;
    const verdict = decideInconclusive(
      run.canary,
      policy,
      state.inconclusiveStreak,
      outcome.check,
      outcome.message,
    );
    state.inconclusiveStreak = verdict.streak;
    record(`inconclusive: ${verdict.decision}`);
    noteMessage(run, verdict.event);
    if (verdict.decision === 'pause') {
      enterPhase(run, CanaryPhase.Waiting);
      state.hold = { kind: 'inconclusive', message: verdict.event, since: new Date().toISOString() };
    }
    return result.heldBy ? 'held' : 'counted';
  }
  if (policy && policy.action !== 'fail') state.inconclusiveStreak = 0;
  const verdict = decideIteration(run.canary, state.analysis, result.outcome);
  state.analysis = verdict.state;
  record(verdict.decision);
  const last = verdict.events[verdict.events.length - 1];
  if (last) noteMessage(run, last);
  if (verdict.decision === 'rollback') {
    // The tick already wrote why; the rollback writes the rest.
    return {
      outcome: 'rolled-back',
      reason: last ?? 'failed checks threshold reached',
      rollBack: { events: [] },
    };
  }
  return result.heldBy ? 'held' : 'counted';
}
