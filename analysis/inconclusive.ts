// What an inconclusive tick does under a RolloutPolicy's `spec.analysis.inconclusive`: a metric whose
// query returned no values, or failed, neither passed nor failed. Without a policy (or with `fail`)
// it stays a failed check, as in Flagger. Pure: importable from workflow code.
import type { InconclusivePolicy } from '../canary/change-control.ts';
import type { CanaryRef } from './iteration.ts';

export interface InconclusiveVerdict {
  /** `skip`: the tick counts for nothing; `pause`: the analysis holds for a human decision. */
  decision: 'skip' | 'pause';
  /** Inconclusive ticks in a row, this one included. */
  streak: number;
  /** The event to record, saying which policy applied. */
  event: string;
}

/**
 * An inconclusive tick under `skip` or `pause` (`fail` is a failed check and never comes here).
 * `streak` is the number of inconclusive ticks in a row before this one.
 */
export function decideInconclusive(
  canary: CanaryRef,
  policy: InconclusivePolicy,
  streak: number,
  check: string,
  message: string,
): InconclusiveVerdict {
  const next = streak + 1;
  const subject = `${canary.name}.${canary.namespace}`;
  const what = `Inconclusive ${subject} check ${check}: ${message}`;
  if (policy.action === 'pause' && next >= policy.pauseAfter) {
    return {
      decision: 'pause',
      streak: next,
      event: `${what}; analysis paused after ${next} inconclusive ticks in a row (inconclusive: pause); promote, resume or abort to decide`,
    };
  }
  const count = policy.action === 'pause' ? `; ${next} of ${policy.pauseAfter} in a row before a pause` : '';
  return {
    decision: 'skip',
    streak: next,
    event: `${what}; tick skipped${count} (inconclusive: ${policy.action})`,
  };
}
