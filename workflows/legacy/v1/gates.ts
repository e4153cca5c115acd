// FROZEN (see ../rollout-v1.ts): the confirm gates. Hooks of the gate's type must all pass, or someone
// promotes by hand; while the promotion gate waits, the analysis ticks on.
import { workflowInfo } from '@temporalio/workflow';
import type { CanaryPhase } from '../../../canary/status.ts';
import { ContinueAnalysis } from './endings.ts';
import { firstFailingHook } from './hooks.ts';
import { alert, setPhase } from './reporting.ts';
import type { LegacyRun } from './run.ts';
import { pause, steer } from './steering.ts';
import { analyseOnce } from './tick.ts';

/** A confirm gate: hooks of `type` must all pass (or someone promotes by hand). */
export async function gate(
  run: LegacyRun,
  type: 'confirm-rollout' | 'confirm-promotion',
  waitingPhase: CanaryPhase,
): Promise<void> {
  const { canary, ns } = run;
  let announced = false;
  for (;;) {
    if ((await steer(run))?.action === 'promote') return;
    const failed = await firstFailingHook(run, type);
    if (!failed) return;
    if (!announced) {
      const text =
        type === 'confirm-rollout'
          ? `Halt ${canary.name}.${ns} advancement waiting for approval ${failed.name}`
          : `Halt ${canary.name}.${ns} advancement waiting for promotion approval ${failed.name}`;
      await setPhase(run, waitingPhase, [{ type: 'Normal', message: text }]);
      await alert(run, 'info', text);
      announced = true;
    }
    if (type === 'confirm-promotion') {
      if (run.iterationsThisRun >= run.continueAsNewAfter || workflowInfo().continueAsNewSuggested)
        throw new ContinueAnalysis();
      run.iterationsThisRun++;
      // While promotion waits, the analysis goes on: a failing check can still roll back.
      await pause(run, `${type} approval (${failed.name})`, run.analysis.intervalMs);
      if (run.pending || run.superseded) continue;
      await analyseOnce(run);
    } else {
      await pause(run, `${type} approval (${failed.name})`, run.analysis.intervalMs);
    }
  }
}
