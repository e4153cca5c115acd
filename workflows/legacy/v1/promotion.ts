// FROZEN (see ../rollout-v1.ts): the first engine's promotion and finalisation: copy the target's spec
// to the primary, wait for the primary, scale green down.
import { CanaryPhase } from '../../../canary/status.ts';
import { primaryName } from '../../../canary/naming.ts';
import { kubernetes } from '../../activities.ts';
import type { RolloutResult } from '../../messages.ts';
import { RolloutEnded } from './endings.ts';
import { firstFailingHook } from './hooks.ts';
import { waitUntilReady } from './readiness.ts';
import { alert, setPhase } from './reporting.ts';
import type { LegacyRun } from './run.ts';

export async function promote(run: LegacyRun): Promise<RolloutResult> {
  const { canary, ns, revision, target } = run;
  await setPhase(run, CanaryPhase.Promoting, [
    { type: 'Normal', message: `Copying ${target}.${ns} template spec to ${primaryName(target)}.${ns}` },
  ]);
  const promoted = await kubernetes.promoteCanary({
    canary: { ...run.ref, uid: run.input.canaryUid },
    target,
    revision,
    autoscaler: canary.autoscaler?.name,
  });
  if (!promoted.matchesExpected) {
    // The target changed after the analysis began; its own rollout is (or will be) under way.
    throw new RolloutEnded('superseded', `target changed to revision ${promoted.revision} before promotion`);
  }
  await waitUntilReady(run, primaryName(target), run.analysis.primaryReadyThreshold, 'fail');
  await setPhase(run, CanaryPhase.Finalising, []);
  await kubernetes.scaleDeployment({ namespace: ns, name: target, replicas: 0 });
  const text = `Promotion completed! Scaling down ${target}.${ns}`;
  await setPhase(run, CanaryPhase.Succeeded, [{ type: 'Normal', message: text }], {
    lastPromotedSpec: revision,
  });
  await alert(run, 'info', text);
  await firstFailingHook(run, 'post-rollout');
  return run.result('promoted', text);
}
