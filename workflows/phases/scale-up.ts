// Phase 2: scale the green version (the target) up and wait until it is ready. A target that misses
// its progress deadline rolls back, as in Flagger.
import { CanaryPhase } from '../../canary/status.ts';
import { kubernetesWriteOptions, scaleUpCanary } from '../activities.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { report, waitUntilReady } from '../rollout-steps.ts';

export async function scaleUp(run: RolloutRun, restarted: boolean): Promise<Ending | undefined> {
  const { canary } = run;
  const text = restarted
    ? `New revision detected! Restarting analysis for ${run.targetDotted}`
    : `New revision detected! Scaling up ${run.targetDotted}`;
  await report(run, { phase: CanaryPhase.Progressing, events: [{ type: 'Normal', message: text }] });
  await scaleUpCanary.executeWithOptions(
    { ...kubernetesWriteOptions, summary: `scale up ${run.targetDotted}` },
    [{ namespace: canary.namespace, target: canary.target.name, autoscaler: canary.autoscaler?.name }],
  );
  const ready = await waitUntilReady(run, canary.target.name, canary.analysis.canaryReadyThreshold);
  if (ready.kind === 'interrupted') return ready.ending;
  if (ready.kind === 'deadline') {
    return run.rollBack(
      `Canary failed! ${run.targetDotted} progress deadline exceeded: ${ready.message}`,
      'failed',
    );
  }
  return undefined;
}
