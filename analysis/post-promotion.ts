// Switch mode's post-promotion analysis: while production traffic reaches the green pods and blue
// is kept warm, every check is counted; at the threshold the apex flips back to blue. Pure:
// importable from workflow code, used by the analysis tick and the workflow alike.
import { effectiveThreshold, type IterationOutcome } from './iteration.ts';

export interface PostPromotionState {
  /** Checks run so far in the keep-warm window. */
  checks: number;
  /** Failed checks so far in the window. */
  failedChecks: number;
  threshold: number;
}

export interface PostPromotionVerdict {
  decision: 'keep' | 'flip-back';
  state: PostPromotionState;
  /** Events for the Canary; none for a passing check, so a quiet window stays quiet. */
  events: string[];
}

export function decidePostPromotion(
  canary: { name: string; namespace: string },
  state: PostPromotionState,
  outcome: IterationOutcome,
): PostPromotionVerdict {
  const checks = state.checks + 1;
  if (outcome.passed) return { decision: 'keep', state: { ...state, checks }, events: [] };
  const failedChecks = state.failedChecks + 1;
  const next = { ...state, checks, failedChecks };
  const limit = effectiveThreshold(state.threshold);
  const counted = `Post-promotion check of ${canary.name}.${canary.namespace} failed (${failedChecks}/${limit}): ${outcome.message}`;
  if (failedChecks >= limit) {
    return {
      decision: 'flip-back',
      state: next,
      events: [
        counted,
        `Rolling back ${canary.name}.${canary.namespace} post-promotion failed checks threshold reached ${failedChecks}`,
      ],
    };
  }
  return { decision: 'keep', state: next, events: [counted] };
}
