// Annotations Cutover reads on a Canary, set by its command line (`cutover undo`, `cutover retry`):
// Flagger's CRD keeps metadata, so they survive where unknown spec fields would be pruned.

/**
 * A token that starts a fresh rollout: it is part of the rollout's workflow id, so a revision that
 * was rolled out (or rolled back) before can be rolled out again.
 */
export const rolloutAttemptAnnotation = 'cutover.dev/rollout-attempt';

/** The revision whose rollout skips the analysis (promotes once green is ready), e.g. an undo. */
export const skipAnalysisRevisionAnnotation = 'cutover.dev/skip-analysis-revision';
