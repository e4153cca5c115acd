// The small verbs every phase uses: the context an activity needs, reporting progress to the Canary
// (and the phase to Temporal's search attributes), a durable pause that a message cuts short, and a
// readiness wait. They act on the run's state object and nothing else.
import { condition, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { RolloutContext, RolloutEvent } from '../activities/rollout/index.ts';
import type { CanaryStatusUpdate } from '../activities/canary-status.ts';
import type { CanaryPhase } from '../canary/status.ts';
import { localStepOptions, reportRollout, stepBudgetMs } from './activities.ts';
import { waitForReadySlice } from './readiness.ts';
import type { Ending, RolloutRun } from './rollout-state.ts';
import { phaseSearchAttribute } from './search-attributes.ts';

export function rolloutContext(run: RolloutRun): RolloutContext {
  return {
    canary: { ...run.ref, target: run.canary.target.name, service: run.canary.service.name },
    revision: run.revision,
    phase: run.state.phase,
    eventHooks: run.hooksOf('event'),
    alerts: run.canary.analysis.alerts,
  };
}

/** Moves the phase (search attribute included) without writing anything to the Canary. */
export function enterPhase(run: RolloutRun, phase: CanaryPhase): void {
  if (phase === run.state.phase) return;
  run.state.phase = phase;
  upsertSearchAttributes([{ key: phaseSearchAttribute, value: phase }]);
}

export interface Progress {
  phase?: CanaryPhase;
  events?: RolloutEvent[];
  status?: Omit<CanaryStatusUpdate, 'phase'>;
  alert?: { severity: 'info' | 'warn' | 'error'; message: string };
}

/** Writes the phase, counters and events to the Canary, and the event and alert hooks: one activity. */
export async function report(
  run: RolloutRun,
  progress: Progress,
  summary = 'report progress',
): Promise<void> {
  if (progress.phase) enterPhase(run, progress.phase);
  const last = progress.events?.[progress.events.length - 1];
  if (last) noteMessage(run, last.message);
  const { analysis } = run.state;
  await reportRollout.executeWithOptions(localStepOptions(stepBudgetMs(run.hooksOf('event')), summary), [
    {
      context: rolloutContext(run),
      key: run.nextStepKey(),
      status: {
        phase: run.state.phase,
        failedChecks: analysis.failedChecks,
        iterations: analysis.iteration,
        canaryWeight: 0,
        lastAppliedSpec: run.revision,
        ...progress.status,
      },
      events: progress.events ?? [],
      ...(progress.alert ? { alert: progress.alert } : {}),
    },
  ]);
}

/** The last thing that happened: the status query's message and Temporal UI's current details. */
export function noteMessage(run: RolloutRun, message: string): void {
  run.state.message = message;
  setCurrentDetails(`**${run.dotted}** ${run.state.phase}: ${message}`);
}

/**
 * A durable timer that a steering message or a newer revision cuts short. Returns true when a
 * message woke it. `wakeOnPromote` false: only an abort or a newer revision wakes it. `wakeOnHold`:
 * a pause (by hand) wakes it too, for the callers that hold the analysis. Events owed by accepted
 * Updates (an approval, a pause) are written as they come, and the timer goes on.
 */
export async function pause(
  run: RolloutRun,
  what: string,
  ms: number,
  wakeOnPromote = true,
  wakeOnHold = false,
): Promise<boolean> {
  const { state } = run;
  const end = new Date().getTime() + ms;
  state.wait = { what, until: new Date(end).toISOString() };
  const woken = (): boolean =>
    state.superseded !== undefined ||
    state.pending?.action === 'abort' ||
    state.pending?.action === 'rollback' ||
    (wakeOnPromote && state.pending !== undefined) ||
    (wakeOnHold && isHeld(run));
  try {
    for (;;) {
      const remaining = Math.max(0, end - new Date().getTime());
      const fired = await condition(() => woken() || state.notices.length > 0, remaining, { summary: what });
      if (state.notices.length > 0) await flushNotices(run);
      if (woken()) return true;
      if (!fired) return false;
    }
  } finally {
    state.wait = undefined;
  }
}

/** True while the analysis is held by hand (`pause`) or by the inconclusive policy. */
export function isHeld(run: RolloutRun): boolean {
  const kind = run.state.hold?.kind;
  return kind === 'paused' || kind === 'inconclusive';
}

/** Writes the events that accepted Updates owe the Canary (one activity), if there are any. */
export async function flushNotices(run: RolloutRun, progress: Omit<Progress, 'events'> = {}): Promise<void> {
  if (run.state.notices.length === 0 && progress.phase === undefined) return;
  const events = run.state.notices.splice(0);
  // Steering is part of the change record: the alert providers hear it too.
  const last = events[events.length - 1];
  const alert = last ? { alert: { severity: 'info' as const, message: last.message } } : {};
  await report(run, { ...progress, ...alert, events }, 'steering events');
}

export type ReadyWait =
  { kind: 'ready' } | { kind: 'deadline'; message: string } | { kind: 'interrupted'; ending: Ending };

/** Waits for a Deployment to be ready, in heartbeating slices; an abort or a newer revision stops it. */
export async function waitUntilReady(
  run: RolloutRun,
  name: string,
  readyThresholdPercent: number,
): Promise<ReadyWait> {
  const ns = run.canary.namespace;
  const deadline = new Date().getTime() + run.canary.progressDeadlineSeconds * 1_000;
  const pollMs = run.input.options?.readinessPollMs ?? 250;
  for (;;) {
    run.state.wait = { what: `${name}.${ns} readiness`, until: new Date(deadline).toISOString() };
    const readiness = await waitForReadySlice({
      namespace: ns,
      name,
      readyThresholdPercent,
      deadline,
      pollMs,
    });
    run.state.wait = undefined;
    if (readiness.ready) return { kind: 'ready' };
    if (readiness.deadlinePassed) return { kind: 'deadline', message: readiness.message };
    // A promote asked for while scaling is kept for the analysis, which it then skips.
    const interrupted = run.interruption();
    if (interrupted) return { kind: 'interrupted', ending: interrupted };
  }
}

/** True when this run should hand its state to a new run (history size or the configured limit). */
export function continueAsNewDue(run: RolloutRun): boolean {
  const limit = run.input.options?.continueAsNewAfterIterations ?? 500;
  return run.state.ticksThisRun >= limit || workflowInfo().continueAsNewSuggested;
}
