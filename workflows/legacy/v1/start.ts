// FROZEN (see ../rollout-v1.ts): the first run of a first-engine rollout up to its analysis: hand over
// from the older rollout, the confirm-rollout gate, scale green up, the pre-rollout hooks.
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { preRolloutOutcome } from '../../../analysis/iteration.ts';
import { CanaryPhase } from '../../../canary/status.ts';
import { handover, kubernetes } from '../../activities.ts';
import { supersedeSignal } from '../../messages.ts';
import { rollBack } from './endings.ts';
import { gate } from './gates.ts';
import { firstFailingHook } from './hooks.ts';
import { waitUntilReady } from './readiness.ts';
import { alert, report, setPhase } from './reporting.ts';
import type { LegacyRun, RolloutEvent } from './run.ts';
import { pause, steer } from './steering.ts';

/** Asks the rollout of the older revision to stop, and waits until it has. True if it was running. */
async function handOverFromPrevious(run: LegacyRun, previous: string): Promise<boolean> {
  let wasRunning = true;
  try {
    await getExternalWorkflowHandle(previous).signal(supersedeSignal, {
      revision: run.revision,
      workflowId: run.info.workflowId,
    });
  } catch {
    // Already closed (or never started): nothing to hand over.
    wasRunning = false;
  }
  await handover.waitForWorkflowClosed({ workflowId: previous });
  return wasRunning;
}

/**
 * Everything before the first analysis tick. Returns 'promote' when the Canary skips the analysis
 * (green is ready, so the caller promotes at once), else 'analyse'.
 */
export async function startRollout(run: LegacyRun): Promise<'promote' | 'analyse'> {
  const { canary, input, ns, target } = run;
  let restarted = false;
  if (input.supersedes) restarted = await handOverFromPrevious(run, input.supersedes);
  await gate(run, 'confirm-rollout', CanaryPhase.Waiting);
  await setPhase(run, CanaryPhase.Progressing, [
    {
      type: 'Normal',
      message: restarted
        ? `New revision detected! Restarting analysis for ${target}.${ns}`
        : `New revision detected! Scaling up ${target}.${ns}`,
    },
  ]);
  await kubernetes.scaleUpCanary({ namespace: ns, target, autoscaler: canary.autoscaler?.name });
  await waitUntilReady(run, target, run.analysis.canaryReadyThreshold, 'rollback');
  if (canary.skipAnalysis) return 'promote';
  await report(run, [{ type: 'Normal', message: `Starting canary analysis for ${target}.${ns}` }]);
  await alert(run, 'info', `New revision detected, starting canary analysis for ${target}.${ns}`);
  await preRollout(run);
  return 'analyse';
}

/** The pre-rollout hooks, retried every interval until they pass or the failures reach the threshold. */
async function preRollout(run: LegacyRun): Promise<void> {
  const hooks = run.hooksOf('pre-rollout');
  if (hooks.length === 0) return;
  for (;;) {
    if ((await steer(run))?.action === 'promote') return;
    const failed = await firstFailingHook(run, 'pre-rollout');
    const verdict = preRolloutOutcome(
      run.ref,
      run.state,
      failed
        ? { passed: false, hook: failed.name, error: failed.message }
        : { passed: true, hooks: hooks.map((h) => h.name) },
    );
    run.state = verdict.state;
    const events: RolloutEvent[] = verdict.events.map((text) => ({
      type: failed ? 'Warning' : 'Normal',
      message: text,
    }));
    if (verdict.decision === 'rollback') await rollBack(run, events);
    await report(run, events);
    if (verdict.decision === 'proceed') return;
    await pause(run, 'pre-rollout retry', run.analysis.intervalMs);
  }
}
