// The blue/green analysis verdicts: what one iteration's outcome does to the analysis, in
// Flagger's words. Pure: importable from workflow code.

/** Where the analysis stands; mirrors the Canary status (`iterations`, `failedChecks`). */
export interface AnalysisState {
  /** Good iterations so far (status `iterations`). */
  iteration: number;
  /** `analysis.iterations`: good iterations needed before promotion. */
  iterations: number;
  /** Failed checks so far, cumulative over the analysis (status `failedChecks`). */
  failedChecks: number;
  /** `analysis.threshold`: failed checks that roll back; Flagger treats anything below 1 as 1. */
  threshold: number;
}

/** One iteration: every check passed, or the first that failed (later checks are not run). */
export type IterationOutcome =
  | { passed: true }
  /**
   * `inconclusive`: set only under a RolloutPolicy whose `analysis.inconclusive` is `skip` or `pause`,
   * when no check failed but one had no data or its query failed (`message` says why). Code that does
   * not know the field treats it as a failed check, which is Flagger's behaviour.
   */
  | { passed: false; check: string; message: string; inconclusive?: true };

/**
 * - `advance`: a good iteration, more to go.
 * - `halt`: a failed check was counted; the iteration did not advance; try again next interval.
 * - `rollback`: failed checks reached the threshold.
 * - `promote`: the N-th good iteration is done (or a good iteration after it, while a
 *   confirm-promotion hook holds the promotion back).
 */
export type AnalysisDecision = 'advance' | 'halt' | 'rollback' | 'promote';

export interface CanaryRef {
  name: string;
  namespace: string;
}

export interface IterationVerdict {
  decision: AnalysisDecision;
  state: AnalysisState;
  /** Events to record on the Canary, in order, worded like Flagger's. */
  events: string[];
}

export function decideIteration(
  canary: CanaryRef,
  state: AnalysisState,
  outcome: IterationOutcome,
): IterationVerdict {
  if (!outcome.passed) return countFailedCheck(canary, state, outcome.message);
  if (state.iteration >= state.iterations) {
    // Already done: the workflow is waiting for a confirm-promotion hook, and the analysis goes on.
    return { decision: 'promote', state, events: [] };
  }
  const next = { ...state, iteration: state.iteration + 1 };
  return {
    decision: next.iteration >= next.iterations ? 'promote' : 'advance',
    state: next,
    events: [`Advance ${ref(canary)} canary iteration ${next.iteration}/${next.iterations}`],
  };
}

export type PreRolloutDecision = 'proceed' | 'halt' | 'rollback';

export interface PreRolloutVerdict {
  decision: PreRolloutDecision;
  state: AnalysisState;
  events: string[];
}

/**
 * Pre-rollout hooks run before the first iteration, and again every interval until they pass. A
 * failure counts one failed check, so it can reach the threshold and roll back.
 */
export function preRolloutOutcome(
  canary: CanaryRef,
  state: AnalysisState,
  outcome: { passed: true; hooks?: string[] } | { passed: false; hook: string; error: string },
): PreRolloutVerdict {
  if (outcome.passed) {
    return {
      decision: 'proceed',
      state,
      events: (outcome.hooks ?? []).map((hook) => `Pre-rollout check ${hook} passed`),
    };
  }
  return countFailedCheck(
    canary,
    state,
    `Halt ${ref(canary)} advancement pre-rollout check ${outcome.hook} failed ${outcome.error}`,
  );
}

/** The threshold as Flagger applies it: 0 or less (unset) means 1. */
export function effectiveThreshold(threshold: number): number {
  return threshold > 0 ? threshold : 1;
}

function countFailedCheck(
  canary: CanaryRef,
  state: AnalysisState,
  message: string,
): { decision: 'halt' | 'rollback'; state: AnalysisState; events: string[] } {
  const next = { ...state, failedChecks: state.failedChecks + 1 };
  if (next.failedChecks >= effectiveThreshold(state.threshold)) {
    return {
      decision: 'rollback',
      state: next,
      events: [message, `Rolling back ${ref(canary)} failed checks threshold reached ${next.failedChecks}`],
    };
  }
  return { decision: 'halt', state: next, events: [message] };
}

function ref(canary: CanaryRef): string {
  return `${canary.name}.${canary.namespace}`;
}
