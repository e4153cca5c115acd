// FROZEN: the first rollout engine, kept only so that rollouts started before the phase state machine
// (workflows/rollout.ts) finish on the code they started with. `rolloutWorkflow` runs this when its
// history has no `cutover-engine-v2` marker, and Temporal replays a running rollout's history against
// it on every worker restart: a different command, in a different order or with different arguments,
// would fail that rollout with a nondeterminism error. So do not change what it does: every recorded
// history in test/replay/histories/v1/ replays against it (node --test test/replay/replay.test.ts).
//
// It was one ~550-line function of closures; it is now split, statement for statement, into the
// modules in v1/ (the state and handlers in v1/run.ts, one step per module) to keep workflow files
// small. The split moved code and changed no command, timer, activity argument or handler.
//
// Delete it once no version-1 rollout runs: a release after the one that introduced the state
// machine, when no rollout started by an older worker is still open (a v1 rollout that continues as
// new moves to the state machine, so only first runs count). Then delete this file, v1/ and
// test/replay/histories/v1/, and turn the `!patched(patches.engineV2)` branch in workflows/rollout.ts
// into deprecatePatch(patches.engineV2).
import { continueAsNew, upsertSearchAttributes } from '@temporalio/workflow';
import type { RolloutInput, RolloutResult } from '../messages.ts';
import { rolloutSearchAttributes } from '../search-attributes.ts';
import { analyse } from './v1/analysis.ts';
import { ContinueAnalysis, RolloutEnded } from './v1/endings.ts';
import { promote } from './v1/promotion.ts';
import { LegacyRun } from './v1/run.ts';
import { startRollout } from './v1/start.ts';

export async function legacyRolloutWorkflow(input: RolloutInput): Promise<RolloutResult> {
  const run = new LegacyRun(input);
  run.installHandlers();
  upsertSearchAttributes(rolloutSearchAttributes(run.canary, run.revision, run.phase));
  try {
    // hand over → confirm-rollout gate → scale up → pre-rollout (first run only) → analysis →
    // confirm-promotion gate → promote → finalise; a rollback ends it from wherever it happens.
    if (!run.carried && (await startRollout(run)) === 'promote') return await promote(run);
    await analyse(run);
    return await promote(run);
  } catch (error) {
    if (error instanceof ContinueAnalysis) {
      return await continueAsNew<typeof legacyRolloutWorkflow>({ ...input, resume: run.carryOver() });
    }
    if (error instanceof RolloutEnded) return run.result(error.outcome, error.message);
    throw error;
  }
}
