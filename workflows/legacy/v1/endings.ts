// FROZEN (see ../rollout-v1.ts): how the first engine ends a rollout. It unwinds by exception: a step
// deep inside throws one of these two types, and the workflow function catches them once, at the top.
import { CanaryPhase } from '../../../canary/status.ts';
import { kubernetes } from '../../activities.ts';
import type { RolloutOutcome } from '../../messages.ts';
import { firstFailingHook } from './hooks.ts';
import { alert, report, setPhase } from './reporting.ts';
import type { LegacyRun, RolloutEvent } from './run.ts';

/** Ends the rollout from deep inside a step; caught once at the top. */
export class RolloutEnded extends Error {
  readonly outcome: RolloutOutcome;
  constructor(outcome: RolloutOutcome, reason: string) {
    super(reason);
    this.outcome = outcome;
  }
}

/** Asks for continue-as-new from the analysis loop, carrying the analysis over. */
export class ContinueAnalysis extends Error {}

/** Scales green down, says why, calls the post-rollout hooks, and ends the rollout. */
export async function rollBack(
  run: LegacyRun,
  events: RolloutEvent[],
  ending: RolloutOutcome = 'rolled-back',
): Promise<never> {
  const { canary, ns, target } = run;
  await report(run, events);
  await kubernetes.scaleDeployment({ namespace: ns, name: target, replicas: 0 });
  const reason = events[events.length - 1]?.message ?? 'rolled back';
  await setPhase(run, CanaryPhase.Failed, [
    { type: 'Warning', message: `Canary failed! Scaling down ${target}.${ns}` },
  ]);
  await alert(run, 'error', `Canary ${canary.name}.${ns} failed: ${reason}`);
  await firstFailingHook(run, 'post-rollout');
  throw new RolloutEnded(ending, reason);
}
