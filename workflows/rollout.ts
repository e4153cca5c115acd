// One blue/green rollout of one revision of a Canary's target, with Flagger's phases and rules
// (../shared/flagger-bluegreen.md). The story, in order:
//
//   hand over from the older rollout → confirm-rollout gate → scale up green → pre-rollout hooks →
//   analysis ticks → confirm-promotion gate → promote → finalise;  or, at any step, roll back.
//
// Each phase is a module in phases/ that takes the run (one documented state object, in
// rollout-state.ts) and returns: nothing (go on) or an Ending. Nothing here throws to end a rollout.
import {
  CancellationScope,
  continueAsNew,
  isCancellation,
  patched,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { legacyRolloutWorkflow } from './legacy/rollout-v1.ts';
import type { RolloutInput, RolloutResult } from './messages.ts';
import { patches } from './patches.ts';
import { analyse } from './phases/analysis.ts';
import { awaitApprovals } from './phases/approvals.ts';
import { changeWindowGate } from './phases/change-window.ts';
import { confirmPromotion } from './phases/confirm-promotion.ts';
import { confirmRollout } from './phases/confirm-rollout.ts';
import { handOverFromPrevious } from './phases/hand-over.ts';
import { announceAnalysis, preRollout } from './phases/pre-rollout.ts';
import { promote } from './phases/promote.ts';
import { rollBack } from './phases/roll-back.ts';
import { scaleUp } from './phases/scale-up.ts';
import { switchTraffic } from './phases/switch.ts';
import { RolloutRun, type Ending } from './rollout-state.ts';
import { noteMessage } from './rollout-steps.ts';
import { registerHandlers } from './steering.ts';
import { outcomeSearchAttributes, rolloutSearchAttributes } from './search-attributes.ts';

type StoryEnd = Ending | 'continue-as-new';

export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  // Rollouts that began on the first engine finish on it (their histories have no marker).
  if (!patched(patches.engineV2)) return legacyRolloutWorkflow(input);
  const run = new RolloutRun(input);
  registerHandlers(run);
  upsertSearchAttributes(rolloutSearchAttributes(run.canary, run.revision, run.state.phase, input.images));

  let ending: StoryEnd;
  try {
    ending = await story(run);
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // "Request Cancellation" in Temporal UI is an abort: roll back, whatever the cancel interrupted.
    ending = run.rollBack(`Rolling back ${run.dotted}: the rollout was cancelled in Temporal`);
    return CancellationScope.nonCancellable(() => end(run, ending as Ending));
  }
  if (ending === 'continue-as-new') {
    return continueAsNew<typeof rolloutWorkflow>({ ...input, resume: run.carryOver() });
  }
  return end(run, ending);
}

/** The rollout, phase by phase; returns how it ended. */
async function story(run: RolloutRun): Promise<StoryEnd> {
  // Deploy windows and freezes (issue 10): rollouts that began before them never ask.
  const changeControl = patched(patches.changeControl);
  if (!run.resumed) {
    const restarted = await handOverFromPrevious(run);
    const stopped =
      (await confirmRollout(run)) ??
      (changeControl ? await changeWindowGate(run, 'rollout') : undefined) ??
      (await scaleUp(run, restarted));
    if (stopped) return stopped;
    if (run.canary.skipAnalysis) return promotion(run, changeControl);
    await announceAnalysis(run);
    const failedBeforeAnalysis = await preRollout(run);
    if (failedBeforeAnalysis) return failedBeforeAnalysis;
  }
  const analysed = await analyse(run);
  if (analysed === 'continue-as-new' || typeof analysed === 'object') return analysed;
  if (analysed !== 'promote-by-hand') {
    const gated = await confirmPromotion(run);
    if (gated) return gated;
  }
  return promotion(run, changeControl);
}

/**
 * The approvals and the deploy window, then Flagger's copy to the primary or, with a RolloutPolicy's
 * `strategy: switch`, the traffic switch.
 */
async function promotion(run: RolloutRun, changeControl: boolean): Promise<StoryEnd> {
  const held =
    (await awaitApprovals(run)) ?? (changeControl ? await changeWindowGate(run, 'promotion') : undefined);
  if (held) return held;
  run.state.stage = 'promoting';
  return run.input.policy?.strategy === 'switch' ? switchTraffic(run) : promote(run);
}

/** Runs the rollback an ending asks for, and records the outcome where people look. */
async function end(run: RolloutRun, ending: Ending): Promise<RolloutResult> {
  await rollBack(run, ending);
  noteMessage(run, ending.reason);
  upsertSearchAttributes(outcomeSearchAttributes(run.state.phase, ending.outcome));
  return run.result(ending);
}
