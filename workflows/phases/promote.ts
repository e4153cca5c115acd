// Phase 6, Flagger's way (`copy`, the default): copy the analysed template to `-primary`, wait for
// the primary, then finalise (green scaled to zero, the Canary `Succeeded`). A template that changed
// after the analysis began is never promoted: its own rollout takes over. Switch mode ends with the
// same copy, after its keep-warm window.
import { CanaryPhase } from '../../canary/status.ts';
import { primaryName } from '../../canary/naming.ts';
import {
  completePromotion,
  endingOptions,
  kubernetesWriteOptions,
  promoteCanary,
  stepBudgetMs,
} from '../activities.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { report, rolloutContext, waitUntilReady } from '../rollout-steps.ts';

export async function promote(run: RolloutRun): Promise<Ending> {
  const primary = primaryName(run.canary.target.name);
  await report(run, {
    phase: CanaryPhase.Promoting,
    events: [
      {
        type: 'Normal',
        message: `Copying ${run.targetDotted} template spec to ${primary}.${run.canary.namespace}`,
      },
    ],
  });
  return copyToPrimary(run);
}

/**
 * Copies the template to the primary and waits for it; `beforeFinalise` runs once the primary is
 * ready (switch mode flips the apex back to it there), then green scales to zero.
 */
export async function copyToPrimary(run: RolloutRun, beforeFinalise?: () => Promise<void>): Promise<Ending> {
  const { canary } = run;
  const target = canary.target.name;
  const primary = primaryName(target);
  const promoted = await promoteCanary.executeWithOptions(
    { ...kubernetesWriteOptions, summary: `copy ${target} to ${primary}` },
    [{ canary: run.ref, target, revision: run.revision, autoscaler: canary.autoscaler?.name }],
  );
  if (!promoted.matchesExpected) {
    await beforeFinalise?.();
    return {
      outcome: 'superseded',
      reason: `target changed to revision ${promoted.revision} before promotion`,
    };
  }
  const ready = await waitUntilReady(run, primary, canary.analysis.primaryReadyThreshold);
  if (ready.kind === 'interrupted') return ready.ending;
  if (ready.kind === 'deadline') {
    // The primary missed its deadline after promotion: nothing to roll back to, so say it loudly.
    // In switch mode the apex stays on green, the version that passed, until someone acts.
    const reason = `Canary failed! ${primary}.${canary.namespace} progress deadline exceeded: ${ready.message}`;
    await report(run, {
      phase: CanaryPhase.Failed,
      events: [{ type: 'Warning', message: reason }],
      alert: { severity: 'error', message: reason },
    });
    return { outcome: 'failed', reason };
  }
  await beforeFinalise?.();
  const post = run.hooksOf('post-rollout');
  const finished = await completePromotion.executeWithOptions(
    endingOptions(stepBudgetMs([...post, ...run.hooksOf('event')]), `finalise: scale ${target} to zero`),
    [{ context: rolloutContext(run), key: run.nextStepKey(), postRolloutHooks: post }],
  );
  for (const hook of finished.postRollout) run.state.hooks[hook.name] = hook;
  run.state.phase = CanaryPhase.Succeeded;
  return { outcome: 'promoted', reason: `Promotion completed! Scaling down ${run.targetDotted}` };
}
