// A held analysis: paused by hand (`pause`) or by the inconclusive policy. No timer runs and no tick
// is spent while it holds; the Canary is `Waiting`. It ends on resume, promote, abort or a newer
// revision, and the phase goes back to what it was. Its caller starts the next tick an interval later.
import { condition } from '@temporalio/workflow';
import { CanaryPhase } from '../../canary/status.ts';
import type { RolloutRun } from '../rollout-state.ts';
import { heldCondition } from '../held-condition.ts';
import { flushNotices, isHeld } from '../rollout-steps.ts';

export async function holdWhileHeld(run: RolloutRun): Promise<void> {
  const { state } = run;
  const before = state.phase === CanaryPhase.Waiting ? CanaryPhase.Progressing : state.phase;
  await flushNotices(run, { phase: CanaryPhase.Waiting, status: { condition: heldCondition(state.hold) } });
  const released = (): boolean =>
    !isHeld(run) || state.superseded !== undefined || state.pending !== undefined;
  state.wait = { what: state.hold?.message ?? 'paused' };
  try {
    for (;;) {
      await condition(() => released() || state.notices.length > 0);
      if (released()) break;
      await flushNotices(run);
    }
  } finally {
    state.wait = undefined;
  }
  // Back to the phase it held in; a resume's event goes with it.
  await flushNotices(run, { phase: before, status: { condition: heldCondition(undefined) } });
}
