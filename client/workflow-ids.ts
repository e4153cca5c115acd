// Workflow ids derived from the Canary and the revision, so a restarted or second watcher that
// starts the same rollout again gets "already started" instead of a duplicate.

/**
 * The canary's uid (its first 8 characters) ends the id: a Canary deleted and created again is a new
 * canary whose rollouts start afresh, even of a revision rolled out (or rolled back) before.
 */
export function rolloutWorkflowId(
  namespace: string,
  name: string,
  canaryUid: string,
  revision: string,
  /** `cutover.dev/rollout-attempt`: a fresh rollout of a revision rolled out before (undo, retry). */
  attempt?: string,
): string {
  const id = `cutover/${namespace}/${name}/rollout/${revision}/${canaryUid.slice(0, 8)}`;
  return attempt ? `${id}/${attempt}` : id;
}

export function initializeWorkflowId(namespace: string, name: string, canaryUid: string): string {
  return `cutover/${namespace}/${name}/init/${canaryUid}`;
}

/** The prefix every workflow of one Canary shares: the UI and `history` filter on it. */
export function canaryWorkflowPrefix(namespace: string, name: string): string {
  return `cutover/${namespace}/${name}/`;
}
