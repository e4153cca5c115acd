// Phase 4: the analysis. Every interval one tick, until `iterations` good ones; a failed check
// counts toward the threshold. Ticks keep a fixed cadence, and after a stall (a worker or Temporal
// outage) the next tick is still a whole interval after the late one: the observed window never
// shrinks. A hand promote ends the analysis early.
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { continueAsNewDue, isHeld, pause, report } from '../rollout-steps.ts';
import { holdWhileHeld } from './hold.ts';
import { runTick } from './tick.ts';

export type AnalysisEnd = Ending | 'continue-as-new' | 'promote-by-hand' | undefined;

export async function analyse(run: RolloutRun): Promise<AnalysisEnd> {
  const { state } = run;
  const intervalMs = run.canary.analysis.intervalMs;
  state.stage = 'analysing';
  let nextTick = new Date().getTime() + intervalMs;
  while (state.analysis.iteration < state.analysis.iterations) {
    if (continueAsNewDue(run)) return 'continue-as-new';
    if (!isHeld(run))
      await pause(run, 'next iteration', Math.max(0, nextTick - new Date().getTime()), true, true);
    if (isHeld(run)) {
      // Paused: no ticks while it holds; the next one is a whole interval after it ends.
      await holdWhileHeld(run);
      nextTick = new Date().getTime() + intervalMs;
      if (!run.state.pending && !run.state.superseded) continue;
    }
    const interrupted = run.interruption();
    if (interrupted) return interrupted;
    const action = run.takePending();
    if (action?.action === 'promote') {
      if (isHeld(run)) state.hold = undefined;
      const text = `Promotion of ${run.dotted} requested by ${action.by}: ${action.reason}`;
      await report(run, { events: [{ type: 'Normal', message: text }] });
      return 'promote-by-hand';
    }
    const tickStartedAt = new Date().getTime();
    const ended = await runTick(run);
    if (typeof ended === 'object') return ended;
    nextTick = Math.max(nextTick + intervalMs, tickStartedAt + intervalMs);
  }
  return undefined;
}
