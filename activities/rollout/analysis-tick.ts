// One analysis tick as ONE activity: the confirm-promotion hooks (while promotion waits), the
// rollback hooks, the rollout hooks, the builtin and MetricTemplate checks, then the Canary's status
// and events, all in one round trip. It returns every step's result, so the history, the status
// query and Temporal UI show each hook and metric of each tick. The verdict comes from the same
// pure function the workflow applies (analysis/iteration.ts), so what the tick writes and what the
// workflow decides never disagree.
import { setTimeout as sleep } from 'node:timers/promises';
import { decideInconclusive, type InconclusiveVerdict } from '../../analysis/inconclusive.ts';
import { decideIteration } from '../../analysis/iteration.ts';
import { decidePostPromotion, type PostPromotionState } from '../../analysis/post-promotion.ts';
import type { AnalysisState, IterationOutcome } from '../../analysis/iteration.ts';
import type { NoDataPolicy } from '../../analysis/metric-check.ts';
import type { InconclusivePolicy } from '../../canary/change-control.ts';
import { CanaryPhase } from '../../canary/status.ts';
import { heldCondition } from '../../workflows/held-condition.ts';
import type { MetricCheck, ResolvedWebhook } from '../../canary/validate.ts';
import type { HookStatus, MetricStatus } from '../../workflows/messages.ts';
import type { CheckMetricResult } from '../metric-checks.ts';
import type { RolloutContext, RolloutStepDeps } from './context.ts';
import { callHook, runHooksInOrder } from './hooks.ts';
import { reportRollout, type RolloutEvent } from './report.ts';

export interface AnalysisTickInput {
  context: RolloutContext;
  key: string;
  state: AnalysisState;
  rollbackHooks: ResolvedWebhook[];
  rolloutHooks: ResolvedWebhook[];
  /** Set once the iterations are done: these hooks run first, and when all pass the tick stops there. */
  confirmPromotionHooks?: ResolvedWebhook[];
  /** Write the "waiting for promotion approval" phase and event if a confirm-promotion hook holds. */
  announceHold?: boolean;
  /** While a confirm-promotion hook holds: run the checks too (default true). */
  analyseWhenHeld?: boolean;
  metrics: MetricCheck[];
  prometheusUrl?: string;
  noDataPolicy?: NoDataPolicy;
  /** Attempts of an unanswered metric query before it counts as a failed check (default 3). */
  metricAttempts?: number;
  /**
   * Switch mode's keep-warm window: the checks run on live traffic and are judged by
   * decidePostPromotion; the status counters of the analysis are left as they are.
   */
  postPromotion?: PostPromotionState;
  /**
   * A RolloutPolicy's `analysis.inconclusive` when it is `skip` or `pause`, and the inconclusive ticks
   * in a row before this one. Unset: an inconclusive check fails, as in Flagger.
   */
  inconclusive?: { policy: InconclusivePolicy; streak: number };
}

export interface AnalysisTickResult {
  hooks: HookStatus[];
  metrics: MetricStatus[];
  /** Every confirm-promotion hook passed: promote now (nothing else ran). */
  promotionApproved?: boolean;
  /** The confirm-promotion hook that holds the promotion back. */
  heldBy?: string;
  /** A rollback hook answered yes: roll back now. */
  rollbackRequestedBy?: string;
  /** The iteration's outcome, when the checks ran. */
  outcome?: IterationOutcome;
  /** False when the Canary was deleted: the workflow stops. */
  canaryFound: boolean;
  /** Set when the tick was inconclusive under the policy's `skip` or `pause`: what it decided. */
  inconclusive?: InconclusiveVerdict;
}

const metricBackoffMs = 250;

export async function runAnalysisTick(
  deps: RolloutStepDeps,
  input: AnalysisTickInput,
): Promise<AnalysisTickResult> {
  const { context, key } = input;
  const hooks: HookStatus[] = [];
  const dotted = `${context.canary.name}.${context.canary.namespace}`;

  if (input.confirmPromotionHooks) {
    const gate = await runHooksInOrder(deps, context, input.confirmPromotionHooks, `${key}/confirm`);
    hooks.push(...gate.results);
    if (!gate.failed) return { hooks, metrics: [], promotionApproved: true, canaryFound: true };
    if (input.announceHold) {
      const text = `Halt ${dotted} advancement waiting for promotion approval ${gate.failed.name}`;
      const written = await reportRollout(deps, {
        context,
        key: `${key}/hold`,
        status: { phase: CanaryPhase.WaitingPromotion },
        events: [{ type: 'Normal', message: text }],
        alert: { severity: 'info', message: text },
      });
      if (!written.found) return { hooks, metrics: [], canaryFound: false };
    }
    if (input.analyseWhenHeld === false) {
      return { hooks, metrics: [], heldBy: gate.failed.name, canaryFound: true };
    }
    // While promotion waits, the analysis goes on: a failing check can still roll back.
    const waiting = { ...input, context: { ...context, phase: CanaryPhase.WaitingPromotion } };
    return { ...(await analyse(deps, waiting, hooks)), heldBy: gate.failed.name };
  }
  return analyse(deps, input, hooks);
}

async function analyse(
  deps: RolloutStepDeps,
  input: AnalysisTickInput,
  hooks: HookStatus[],
): Promise<AnalysisTickResult> {
  const { context, key } = input;
  const dotted = `${context.canary.name}.${context.canary.namespace}`;
  for (const hook of input.rollbackHooks) {
    const result = await callHook(deps, context, hook, `${key}/rollback`);
    hooks.push(result);
    if (result.ok) return { hooks, metrics: [], rollbackRequestedBy: hook.name, canaryFound: true };
  }
  const rollout = await runHooksInOrder(deps, context, input.rolloutHooks, `${key}/rollout`);
  hooks.push(...rollout.results);
  const metrics: MetricStatus[] = [];
  let outcome: IterationOutcome;
  if (rollout.failed) {
    outcome = {
      passed: false,
      check: rollout.failed.name,
      message: `Halt ${dotted} advancement external check ${rollout.failed.name} failed ${rollout.failed.message}`,
    };
  } else {
    outcome = await checkMetrics(deps, input, metrics);
  }
  const type = outcome.passed ? 'Normal' : 'Warning';
  if (input.postPromotion) {
    const verdict = decidePostPromotion(context.canary, input.postPromotion, outcome);
    const events: RolloutEvent[] = verdict.events.map((message) => ({ type, message }));
    const written = await reportRollout(deps, {
      context,
      key,
      events,
      ...(verdict.decision === 'keep' && events[0]
        ? { alert: { severity: 'warn' as const, message: events[0].message } }
        : {}),
    });
    return { hooks, metrics, outcome, canaryFound: written.found };
  }
  if (!outcome.passed && outcome.inconclusive && input.inconclusive) {
    return inconclusiveTick(deps, input, outcome, { hooks, metrics });
  }
  const verdict = decideIteration(context.canary, input.state, outcome);
  const events: RolloutEvent[] = verdict.events.map((message) => ({ type, message }));
  const written = await reportRollout(deps, {
    context,
    key,
    status: {
      phase: context.phase,
      failedChecks: verdict.state.failedChecks,
      iterations: verdict.state.iteration,
      canaryWeight: 0,
      lastAppliedSpec: context.revision,
    },
    events,
    // A failed check warns; the rollback that a threshold triggers sends its own alert.
    ...(!outcome.passed && verdict.decision !== 'rollback' && events[0]
      ? { alert: { severity: 'warn' as const, message: events[0].message } }
      : {}),
  });
  return { hooks, metrics, outcome, canaryFound: written.found };
}

/** An inconclusive tick under `skip` or `pause`: counters unchanged, one event saying which applied. */
async function inconclusiveTick(
  deps: RolloutStepDeps,
  input: AnalysisTickInput,
  outcome: Extract<IterationOutcome, { passed: false }>,
  ran: Pick<AnalysisTickResult, 'hooks' | 'metrics'>,
): Promise<AnalysisTickResult> {
  const { context, key } = input;
  const { policy, streak } = input.inconclusive ?? { policy: { action: 'skip', pauseAfter: 1 }, streak: 0 };
  const verdict = decideInconclusive(context.canary, policy, streak, outcome.check, outcome.message);
  const written = await reportRollout(deps, {
    context,
    key,
    events: [{ type: 'Warning', message: verdict.event }],
    ...(verdict.decision === 'pause'
      ? {
          status: {
            phase: CanaryPhase.Waiting,
            condition: heldCondition({ kind: 'inconclusive', message: verdict.event }),
          },
          alert: { severity: 'warn' as const, message: verdict.event },
        }
      : {}),
  });
  return { ...ran, outcome, canaryFound: written.found, inconclusive: verdict };
}

/**
 * Flagger's order: builtin checks first, then MetricTemplate checks; stops at the first failure.
 * Under an inconclusive policy an inconclusive check does not stop the others (a later failure is
 * still a failure); the tick is inconclusive when nothing failed and something was.
 */
async function checkMetrics(
  deps: RolloutStepDeps,
  input: AnalysisTickInput,
  statuses: MetricStatus[],
): Promise<IterationOutcome> {
  let inconclusive: Extract<IterationOutcome, { passed: false }> | undefined;
  const ordered = [
    ...input.metrics.filter((m) => m.source !== 'template'),
    ...input.metrics.filter((m) => m.source === 'template'),
  ];
  for (const metric of ordered) {
    const verdict = await checkWithRetries(deps, input, metric);
    statuses.push({
      name: metric.name,
      ...(verdict.value !== undefined ? { value: verdict.value } : {}),
      thresholdRange: metric.thresholdRange,
      passed: verdict.passed,
      message: verdict.message,
      at: new Date().toISOString(),
    });
    if (!verdict.passed && input.inconclusive && verdict.inconclusive !== undefined) {
      inconclusive ??= {
        passed: false,
        check: metric.name,
        message: verdict.inconclusive,
        inconclusive: true,
      };
      continue;
    }
    if (!verdict.passed) return { passed: false, check: metric.name, message: verdict.message };
  }
  return inconclusive ?? { passed: true };
}

/** A metric check, asked again after a short pause while Prometheus does not answer. */
async function checkWithRetries(
  deps: RolloutStepDeps,
  input: AnalysisTickInput,
  metric: MetricCheck,
): Promise<Pick<CheckMetricResult, 'passed' | 'value' | 'message' | 'inconclusive'>> {
  const attempts = input.metricAttempts ?? 3;
  const { canary } = input.context;
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.checkMetric({
        canary: {
          name: canary.name,
          namespace: canary.namespace,
          target: canary.target,
          service: canary.service,
        },
        metric,
        ...(input.prometheusUrl !== undefined ? { prometheusUrl: input.prometheusUrl } : {}),
        ...(input.noDataPolicy !== undefined ? { noDataPolicy: input.noDataPolicy } : {}),
      });
    } catch (error) {
      if (attempt >= attempts) {
        const cause = error instanceof Error ? error.message : String(error);
        const message = `Metric query failed for ${metric.name}: ${cause}`;
        return { passed: false, message, inconclusive: message };
      }
      await sleep(metricBackoffMs * 2 ** (attempt - 1));
    }
  }
}
