// FROZEN (see ../rollout-v1.ts): the first engine's analysis loop, from the first tick to the
// promotion gate.
import { workflowInfo } from '@temporalio/workflow';
import { CanaryPhase } from '../../../canary/status.ts';
import { ContinueAnalysis } from './endings.ts';
import { gate } from './gates.ts';
import { report } from './reporting.ts';
import type { LegacyRun } from './run.ts';
import { pause, steer } from './steering.ts';
import { analyseOnce } from './tick.ts';

/** The analysis: every interval one tick, until N good iterations, then the promotion gate. */
export async function analyse(run: LegacyRun): Promise<void> {
  const { analysis } = run;
  // Ticks keep a fixed cadence: the time a tick's checks take does not push the next one back.
  let nextTick = new Date().getTime() + analysis.intervalMs;
  while (run.state.iteration < run.state.iterations) {
    if (run.iterationsThisRun >= run.continueAsNewAfter || workflowInfo().continueAsNewSuggested)
      throw new ContinueAnalysis();
    await pause(run, 'next iteration', Math.max(0, nextTick - new Date().getTime()));
    nextTick = Math.max(nextTick + analysis.intervalMs, new Date().getTime());
    const action = await steer(run);
    if (action?.action === 'promote') {
      await report(run, [
        {
          type: 'Normal',
          message: `Promotion of ${run.canary.name}.${run.ns} requested by ${action.by}: ${action.reason}`,
        },
      ]);
      return;
    }
    run.iterationsThisRun++;
    await analyseOnce(run);
  }
  await gate(run, 'confirm-promotion', CanaryPhase.WaitingPromotion);
}
