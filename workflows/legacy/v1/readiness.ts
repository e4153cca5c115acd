// FROZEN (see ../rollout-v1.ts): waiting for a Deployment (green, or the primary after promotion) to be
// ready, in activity-sized slices, until its progress deadline.
import { CanaryPhase } from '../../../canary/status.ts';
import { waitForReadySlice } from '../../readiness.ts';
import { RolloutEnded, rollBack } from './endings.ts';
import { alert, setPhase } from './reporting.ts';
import type { LegacyRun } from './run.ts';
import { steer } from './steering.ts';

/** Waits for a Deployment to be ready (in activity-sized slices), failing at its progress deadline. */
export async function waitUntilReady(
  run: LegacyRun,
  name: string,
  readyThresholdPercent: number,
  onDeadline: 'rollback' | 'fail',
): Promise<void> {
  const { ns } = run;
  const pollMs = run.input.options?.readinessPollMs ?? 250;
  const deadline = new Date().getTime() + run.canary.progressDeadlineSeconds * 1_000;
  for (;;) {
    run.wait = { what: `${name}.${ns} readiness`, until: new Date(deadline).toISOString() };
    const readiness = await waitForReadySlice({
      namespace: ns,
      name,
      readyThresholdPercent,
      deadline,
      pollMs,
    });
    run.wait = undefined;
    if (readiness.ready) return;
    if (readiness.deadlinePassed) {
      const reason = `Canary failed! ${name}.${ns} progress deadline exceeded: ${readiness.message}`;
      if (onDeadline === 'rollback') await rollBack(run, [{ type: 'Warning', message: reason }], 'failed');
      // The primary missed its deadline after promotion: nothing to roll back to, so say it loudly.
      await setPhase(run, CanaryPhase.Failed, [{ type: 'Warning', message: reason }]);
      await alert(run, 'error', reason);
      throw new RolloutEnded('failed', reason);
    }
    // A promote asked for while scaling is kept for the analysis, which it then skips.
    await steer(run, true);
  }
}
