// Phase 5: the confirm-promotion gate. Every `confirm-promotion` hook must say yes (or someone
// promotes by hand); while they hold, the Canary is `WaitingPromotion` and the analysis goes on
// every interval, so a failing check can still roll back.
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { continueAsNewDue, isHeld, pause } from '../rollout-steps.ts';
import { holdWhileHeld } from './hold.ts';
import { runTick } from './tick.ts';

export async function confirmPromotion(run: RolloutRun): Promise<Ending | 'continue-as-new' | undefined> {
  const hooks = run.hooksOf('confirm-promotion');
  // The first look right after the last iteration asks the hooks only: checks stay an interval apart.
  let analyse = false;
  for (;;) {
    const interrupted = run.interruption();
    if (interrupted) return interrupted;
    if (hooks.length === 0 || run.takePending()?.action === 'promote') return undefined;
    const ended = await runTick(run, { hooks, analyse });
    if (ended === 'approved') return undefined;
    if (typeof ended === 'object') return ended;
    if (continueAsNewDue(run)) return 'continue-as-new';
    if (!isHeld(run)) {
      await pause(
        run,
        `confirm-promotion approval (${run.state.lastTick?.decision ?? 'held'})`,
        run.canary.analysis.intervalMs,
        true,
        true,
      );
    }
    // Paused (by hand, or by the inconclusive policy): no ticks until it ends.
    if (isHeld(run)) await holdWhileHeld(run);
    analyse = true;
  }
}
