// FROZEN: the first rollout engine, kept only so that rollouts started before the phase state machine
// (workflows/rollout.ts) finish on the code they started with. `rolloutWorkflow` runs this when its
// history has no `cutover-engine-v2` marker. Do not change it: every recorded history in
// test/replay/histories/ of version 1 replays against it. Delete it once no version-1 rollout runs
// (a release after the one that introduced the state machine). It is over the ~250-line guideline
// for workflow files on purpose: splitting it would be a change to frozen code.
import {
  ActivityFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { decideIteration, preRolloutOutcome } from '../../analysis/iteration.ts';
import type { AnalysisState, IterationOutcome } from '../../analysis/iteration.ts';
import { primaryName } from '../../canary/naming.ts';
import { eventWebhookPayload } from '../../canary/webhook-payload.ts';
import { CanaryPhase } from '../../canary/status.ts';
import type { ResolvedWebhook } from '../../canary/validate.ts';
import { handover, kubernetes, metrics, notifications, webhooks } from '../activities.ts';
import { waitForReadySlice } from '../readiness.ts';
import { abortSignal, promoteSignal, statusQuery, supersedeSignal } from '../messages.ts';
import type {
  HookStatus,
  ManualAction,
  MetricStatus,
  RolloutCarryOver,
  RolloutInput,
  RolloutOutcome,
  RolloutResult,
  RolloutStatus,
  WaitStatus,
} from '../messages.ts';
import { phaseSearchAttribute, rolloutSearchAttributes } from '../search-attributes.ts';

const defaultContinueAsNewAfter = 500;

/** Ends the rollout from deep inside a step; caught once at the top. */
class RolloutEnded extends Error {
  readonly outcome: RolloutOutcome;
  constructor(outcome: RolloutOutcome, reason: string) {
    super(reason);
    this.outcome = outcome;
  }
}

/** Asks for continue-as-new from the analysis loop, carrying the analysis over. */
class ContinueAnalysis extends Error {}

export async function legacyRolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  const { canary, revision } = input;
  const target = canary.target.name;
  const ns = canary.namespace;
  const ref = { name: canary.name, namespace: ns };
  const analysis = canary.analysis;
  const info = workflowInfo();
  const carried = input.resume;

  let phase: CanaryPhase = carried?.phase ?? CanaryPhase.Progressing;
  let state: AnalysisState = {
    iteration: carried?.iteration ?? 0,
    iterations: analysis.iterations,
    failedChecks: carried?.failedChecks ?? 0,
    threshold: analysis.threshold,
  };
  const metricStatus: Record<string, MetricStatus> = carried?.metrics ?? {};
  const hookStatus: Record<string, HookStatus> = carried?.hooks ?? {};
  const manualActions: ManualAction[] = carried?.manualActions ?? [];
  let pending: ManualAction | undefined = carried?.pending;
  let superseded: { revision: string; workflowId: string } | undefined;
  let wait: WaitStatus | undefined;
  let message = carried ? 'Analysis continued in a new run' : 'Rollout started';
  let outcome: RolloutOutcome | undefined;
  let eventSequence = carried?.eventSequence ?? 0;
  let iterationsThisRun = 0;
  const startedAt = carried?.startedAt ?? new Date().toISOString();
  const continueAsNewAfter = input.options?.continueAsNewAfterIterations ?? defaultContinueAsNewAfter;

  setHandler(statusQuery, (): RolloutStatus => ({
    canary: { ...ref, target },
    revision,
    phase,
    iteration: state.iteration,
    iterations: state.iterations,
    failedChecks: state.failedChecks,
    threshold: state.threshold,
    metrics: metricStatus,
    hooks: hookStatus,
    wait,
    manualActions,
    startedAt,
    outcome,
    message,
  }));
  setHandler(promoteSignal, ({ by, reason }) => {
    const action: ManualAction = { action: 'promote', by, reason, at: new Date().toISOString() };
    manualActions.push(action);
    // An abort already asked for wins over a later promote.
    if (pending?.action !== 'abort') pending = action;
  });
  setHandler(abortSignal, ({ by, reason }) => {
    const action: ManualAction = { action: 'abort', by, reason, at: new Date().toISOString() };
    manualActions.push(action);
    pending = action;
  });
  setHandler(supersedeSignal, (request) => {
    superseded = request;
  });

  type Event = { type: 'Normal' | 'Warning'; message: string };

  /** Writes phase, counters and events to the Canary (one activity), and to the search attributes. */
  async function report(events: Event[], status: { lastPromotedSpec?: string } = {}): Promise<void> {
    if (events.length > 0) message = events[events.length - 1]?.message ?? message;
    await kubernetes.reportProgress({
      canary: { ...ref, uid: input.canaryUid },
      status: {
        phase,
        failedChecks: state.failedChecks,
        iterations: state.iteration,
        canaryWeight: 0,
        lastAppliedSpec: revision,
        ...status,
      },
      events: events.map((e) => ({ ...e, key: `${info.workflowId}/${info.runId}/${eventSequence++}` })),
    });
    const eventHooks = hooksOf('event');
    for (const event of events) {
      for (const hook of eventHooks) {
        await webhooks(hook.timeoutMs, hook.retries).callWebhook({
          url: hook.url,
          timeoutMs: hook.timeoutMs,
          retries: hook.retries,
          disableTLS: hook.disableTLS,
          payload: eventWebhookPayload({
            ...payload(hook),
            eventMessage: event.message,
            eventType: event.type,
            at: new Date().getTime(),
          }),
        });
      }
    }
  }

  async function setPhase(next: CanaryPhase, events: Event[], status: { lastPromotedSpec?: string } = {}) {
    if (next !== phase) {
      phase = next;
      upsertSearchAttributes([{ key: phaseSearchAttribute, value: phase }]);
    }
    await report(events, status);
  }

  async function alert(severity: 'info' | 'warn' | 'error', text: string): Promise<void> {
    if (analysis.alerts.length === 0) return;
    try {
      await notifications.sendAlerts({
        canary: { ...ref, target },
        alerts: analysis.alerts,
        severity,
        message: text,
        phase,
        revision,
      });
    } catch (error) {
      // Best effort: a chat outage is logged in the history, never a reason to stop a rollout.
      if (!(error instanceof ActivityFailure)) throw error;
    }
  }

  function hooksOf(type: ResolvedWebhook['type']): ResolvedWebhook[] {
    return analysis.webhooks.filter((h) => h.type === type);
  }

  function payload(hook: ResolvedWebhook) {
    return { name: canary.name, namespace: ns, phase, checksum: revision, metadata: hook.metadata };
  }

  /** Calls one hook and records its result; a failure is a result, not an exception. */
  async function callHook(hook: ResolvedWebhook): Promise<HookStatus> {
    const result = await webhooks(hook.timeoutMs, hook.retries).callWebhook({
      url: hook.url,
      timeoutMs: hook.timeoutMs,
      retries: hook.retries,
      disableTLS: hook.disableTLS,
      payload: payload(hook),
    });
    const status: HookStatus = {
      name: hook.name,
      type: hook.type,
      ok: result.ok,
      status: result.status,
      message: result.ok ? `HTTP ${result.status}` : (result.error ?? `HTTP ${result.status}`),
      at: new Date().toISOString(),
    };
    hookStatus[hook.name] = status;
    return status;
  }

  /** Runs hooks of one type in order; returns the first that failed. */
  async function firstFailingHook(type: ResolvedWebhook['type']): Promise<HookStatus | undefined> {
    for (const hook of hooksOf(type)) {
      const result = await callHook(hook);
      if (!result.ok) return result;
    }
    return undefined;
  }

  /**
   * A durable timer that a steering signal or a newer revision cuts short. Returns true when woken
   * by a message rather than by the timer.
   */
  async function pause(what: string, ms: number, wakeOnPromote = true): Promise<boolean> {
    wait = { what, until: new Date(new Date().getTime() + ms).toISOString() };
    const woken = (): boolean =>
      superseded !== undefined || pending?.action === 'abort' || (wakeOnPromote && pending !== undefined);
    try {
      return await condition(woken, ms);
    } finally {
      wait = undefined;
    }
  }

  /** Stops for a newer revision (no side effects: the newer rollout takes over the green version). */
  function handOverIfSuperseded(): void {
    if (superseded) {
      throw new RolloutEnded(
        'superseded',
        `superseded by revision ${superseded.revision} (${superseded.workflowId})`,
      );
    }
  }

  /**
   * Acts on a pending abort (rolls back) and returns a pending promote for the caller to honour. With
   * `keepPromote`, a promote stays pending for a later step that can act on it.
   */
  async function steer(keepPromote = false): Promise<ManualAction | undefined> {
    handOverIfSuperseded();
    const action = pending;
    if (!action || (keepPromote && action.action === 'promote')) return undefined;
    pending = undefined;
    if (action.action === 'abort') {
      await rollBack([
        {
          type: 'Warning',
          message: `Rolling back ${canary.name}.${ns} aborted by ${action.by}: ${action.reason}`,
        },
      ]);
    }
    return action;
  }

  async function rollBack(events: Event[], ending: RolloutOutcome = 'rolled-back'): Promise<never> {
    await report(events);
    await kubernetes.scaleDeployment({ namespace: ns, name: target, replicas: 0 });
    const reason = events[events.length - 1]?.message ?? 'rolled back';
    await setPhase(CanaryPhase.Failed, [
      { type: 'Warning', message: `Canary failed! Scaling down ${target}.${ns}` },
    ]);
    await alert('error', `Canary ${canary.name}.${ns} failed: ${reason}`);
    await firstFailingHook('post-rollout');
    throw new RolloutEnded(ending, reason);
  }

  /** Waits for a Deployment to be ready (in activity-sized slices), failing at its progress deadline. */
  async function waitUntilReady(
    name: string,
    readyThresholdPercent: number,
    onDeadline: 'rollback' | 'fail',
  ) {
    const pollMs = input.options?.readinessPollMs ?? 250;
    const deadline = new Date().getTime() + canary.progressDeadlineSeconds * 1_000;
    for (;;) {
      wait = { what: `${name}.${ns} readiness`, until: new Date(deadline).toISOString() };
      const readiness = await waitForReadySlice({
        namespace: ns,
        name,
        readyThresholdPercent,
        deadline,
        pollMs,
      });
      wait = undefined;
      if (readiness.ready) return;
      if (readiness.deadlinePassed) {
        const reason = `Canary failed! ${name}.${ns} progress deadline exceeded: ${readiness.message}`;
        if (onDeadline === 'rollback') await rollBack([{ type: 'Warning', message: reason }], 'failed');
        // The primary missed its deadline after promotion: nothing to roll back to, so say it loudly.
        await setPhase(CanaryPhase.Failed, [{ type: 'Warning', message: reason }]);
        await alert('error', reason);
        throw new RolloutEnded('failed', reason);
      }
      // A promote asked for while scaling is kept for the analysis, which it then skips.
      await steer(true);
    }
  }

  /** A confirm gate: hooks of `type` must all pass (or someone promotes by hand). */
  async function gate(
    type: 'confirm-rollout' | 'confirm-promotion',
    waitingPhase: CanaryPhase,
  ): Promise<void> {
    let announced = false;
    for (;;) {
      if ((await steer())?.action === 'promote') return;
      const failed = await firstFailingHook(type);
      if (!failed) return;
      if (!announced) {
        const text =
          type === 'confirm-rollout'
            ? `Halt ${canary.name}.${ns} advancement waiting for approval ${failed.name}`
            : `Halt ${canary.name}.${ns} advancement waiting for promotion approval ${failed.name}`;
        await setPhase(waitingPhase, [{ type: 'Normal', message: text }]);
        await alert('info', text);
        announced = true;
      }
      if (type === 'confirm-promotion') {
        if (iterationsThisRun >= continueAsNewAfter || workflowInfo().continueAsNewSuggested)
          throw new ContinueAnalysis();
        iterationsThisRun++;
        // While promotion waits, the analysis goes on: a failing check can still roll back.
        await pause(`${type} approval (${failed.name})`, analysis.intervalMs);
        if (pending || superseded) continue;
        await analyseOnce();
      } else {
        await pause(`${type} approval (${failed.name})`, analysis.intervalMs);
      }
    }
  }

  async function checkMetrics(): Promise<IterationOutcome> {
    // Flagger's order: builtin checks first, then MetricTemplate checks.
    const ordered = [
      ...analysis.metrics.filter((m) => m.source !== 'template'),
      ...analysis.metrics.filter((m) => m.source === 'template'),
    ];
    for (const metric of ordered) {
      let verdict: { passed: boolean; value?: number; message: string; skipped?: boolean };
      try {
        verdict = await metrics.checkMetric({
          canary: { ...ref, target, service: canary.service.name },
          metric,
          prometheusUrl: canary.metricsServer ?? input.options?.prometheusUrl,
          noDataPolicy: input.options?.noDataPolicy,
        });
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        const cause = error.cause?.message ?? error.message;
        verdict = { passed: false, message: `Metric query failed for ${metric.name}: ${cause}` };
      }
      metricStatus[metric.name] = {
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
  async function analyseOnce(): Promise<'advance' | 'halt' | 'promote'> {
    for (const hook of hooksOf('rollback')) {
      const result = await callHook(hook);
      if (result.ok)
        await rollBack([
          { type: 'Warning', message: `Rolling back ${canary.name}.${ns} manual webhook invoked` },
        ]);
    }
    const failedHook = await firstFailingHook('rollout');
    const outcome: IterationOutcome = failedHook
      ? {
          passed: false,
          check: failedHook.name,
          message: `Halt ${canary.name}.${ns} advancement external check ${failedHook.name} failed ${failedHook.message}`,
        }
      : await checkMetrics();
    const verdict = decideIteration(ref, state, outcome);
    state = verdict.state;
    const events: Event[] = verdict.events.map((text) => ({
      type: outcome.passed ? 'Normal' : 'Warning',
      message: text,
    }));
    if (verdict.decision === 'rollback') await rollBack(events);
    await report(events);
    if (!outcome.passed) await alert('warn', events[0]?.message ?? 'check failed');
    return verdict.decision === 'rollback' ? 'halt' : verdict.decision;
  }

  /** Asks the rollout of the older revision to stop, and waits until it has. True if it was running. */
  async function handOverFromPrevious(previous: string): Promise<boolean> {
    let wasRunning = true;
    try {
      await getExternalWorkflowHandle(previous).signal(supersedeSignal, {
        revision,
        workflowId: info.workflowId,
      });
    } catch {
      // Already closed (or never started): nothing to hand over.
      wasRunning = false;
    }
    await handover.waitForWorkflowClosed({ workflowId: previous });
    return wasRunning;
  }

  async function promote(): Promise<RolloutResult> {
    await setPhase(CanaryPhase.Promoting, [
      { type: 'Normal', message: `Copying ${target}.${ns} template spec to ${primaryName(target)}.${ns}` },
    ]);
    const promoted = await kubernetes.promoteCanary({
      canary: { ...ref, uid: input.canaryUid },
      target,
      revision,
      autoscaler: canary.autoscaler?.name,
    });
    if (!promoted.matchesExpected) {
      // The target changed after the analysis began; its own rollout is (or will be) under way.
      throw new RolloutEnded(
        'superseded',
        `target changed to revision ${promoted.revision} before promotion`,
      );
    }
    await waitUntilReady(primaryName(target), analysis.primaryReadyThreshold, 'fail');
    await setPhase(CanaryPhase.Finalising, []);
    await kubernetes.scaleDeployment({ namespace: ns, name: target, replicas: 0 });
    const text = `Promotion completed! Scaling down ${target}.${ns}`;
    await setPhase(CanaryPhase.Succeeded, [{ type: 'Normal', message: text }], {
      lastPromotedSpec: revision,
    });
    await alert('info', text);
    await firstFailingHook('post-rollout');
    return result('promoted', text);
  }

  function result(which: RolloutOutcome, reason: string): RolloutResult {
    outcome = which;
    return {
      outcome: which,
      revision,
      reason,
      iteration: state.iteration,
      iterations: state.iterations,
      failedChecks: state.failedChecks,
      manualActions,
    };
  }

  function carryOver(): RolloutCarryOver {
    return {
      phase,
      iteration: state.iteration,
      failedChecks: state.failedChecks,
      metrics: metricStatus,
      hooks: hookStatus,
      manualActions,
      pending,
      startedAt,
      eventSequence,
    };
  }

  /** The analysis: every interval one tick, until N good iterations, then the promotion gate. */
  async function analyse(): Promise<void> {
    // Ticks keep a fixed cadence: the time a tick's checks take does not push the next one back.
    let nextTick = new Date().getTime() + analysis.intervalMs;
    while (state.iteration < state.iterations) {
      if (iterationsThisRun >= continueAsNewAfter || workflowInfo().continueAsNewSuggested)
        throw new ContinueAnalysis();
      await pause('next iteration', Math.max(0, nextTick - new Date().getTime()));
      nextTick = Math.max(nextTick + analysis.intervalMs, new Date().getTime());
      const action = await steer();
      if (action?.action === 'promote') {
        await report([
          {
            type: 'Normal',
            message: `Promotion of ${canary.name}.${ns} requested by ${action.by}: ${action.reason}`,
          },
        ]);
        return;
      }
      iterationsThisRun++;
      await analyseOnce();
    }
    await gate('confirm-promotion', CanaryPhase.WaitingPromotion);
  }

  upsertSearchAttributes(rolloutSearchAttributes(canary, revision, phase));
  try {
    if (!carried) {
      let restarted = false;
      if (input.supersedes) restarted = await handOverFromPrevious(input.supersedes);
      await gate('confirm-rollout', CanaryPhase.Waiting);
      await setPhase(CanaryPhase.Progressing, [
        {
          type: 'Normal',
          message: restarted
            ? `New revision detected! Restarting analysis for ${target}.${ns}`
            : `New revision detected! Scaling up ${target}.${ns}`,
        },
      ]);
      await kubernetes.scaleUpCanary({ namespace: ns, target, autoscaler: canary.autoscaler?.name });
      await waitUntilReady(target, analysis.canaryReadyThreshold, 'rollback');
      if (canary.skipAnalysis) return await promote();
      await report([{ type: 'Normal', message: `Starting canary analysis for ${target}.${ns}` }]);
      await alert('info', `New revision detected, starting canary analysis for ${target}.${ns}`);
      await preRollout();
    }
    await analyse();
    return await promote();
  } catch (error) {
    if (error instanceof ContinueAnalysis) {
      return await continueAsNew<typeof legacyRolloutWorkflow>({ ...input, resume: carryOver() });
    }
    if (error instanceof RolloutEnded) return result(error.outcome, error.message);
    throw error;
  }

  async function preRollout(): Promise<void> {
    const hooks = hooksOf('pre-rollout');
    if (hooks.length === 0) return;
    for (;;) {
      if ((await steer())?.action === 'promote') return;
      const failed = await firstFailingHook('pre-rollout');
      const verdict = preRolloutOutcome(
        ref,
        state,
        failed
          ? { passed: false, hook: failed.name, error: failed.message }
          : { passed: true, hooks: hooks.map((h) => h.name) },
      );
      state = verdict.state;
      const events: Event[] = verdict.events.map((text) => ({
        type: failed ? 'Warning' : 'Normal',
        message: text,
      }));
      if (verdict.decision === 'rollback') await rollBack(events);
      await report(events);
      if (verdict.decision === 'proceed') return;
      await pause('pre-rollout retry', analysis.intervalMs);
    }
  }
}
