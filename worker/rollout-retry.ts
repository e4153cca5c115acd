// `retry` (a RolloutAction): a fresh rollout of the revision the Canary's target has now, allowed only
// when that revision's latest rollout ended rolled back or failed. There is no workflow to update: the
// worker sets the Canary's `cutover.dev/rollout-attempt` annotation to a token of this request, and the
// revision watcher (worker/reconcile.ts) starts the rollout under a new workflow id. Pure: the caller
// reads the Canary, its target's revision and its rollouts in Temporal's visibility.
import { rolloutAttemptAnnotation } from '../canary/annotations.ts';
import { rolloutAttemptToken } from '../canary/promoted-revision.ts';

/** A rollout of the Canary as visibility lists it (client/canary-lookup.ts `WorkflowRun`). */
export interface PastRollout {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, … */
  status: string;
  startTime: Date;
  revision?: string;
  /** The Canary phase the rollout reported last (CutoverPhase). */
  phase?: string;
}

export interface RetryInput {
  canary: { namespace: string; name: string; annotations: Record<string, string> };
  /** The revision of the target as it is now. */
  revision: string;
  /** The Canary's rollouts, any order. */
  rollouts: readonly PastRollout[];
  /** The RolloutAction's uid: the attempt token is derived from it, so a redelivery asks once. */
  actionUid: string;
}

export type RetryVerdict =
  | { kind: 'retry'; token: string; annotations: Record<string, string>; message: string }
  /** This RolloutAction's token is on the Canary already (a redelivery): nothing more to write. */
  | { kind: 'already'; token: string; message: string }
  | { kind: 'refused'; message: string };

/** The attempt token of a retry asked by the RolloutAction with this uid. */
export function retryToken(revision: string, actionUid: string): string {
  return rolloutAttemptToken(revision, actionUid.replace(/-/g, '').slice(0, 10));
}

const endedBadly = new Set(['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELED', 'CANCELLED']);

export function retryVerdict(input: RetryInput): RetryVerdict {
  const { canary, revision } = input;
  const ref = `${canary.namespace}/${canary.name}`;
  const token = retryToken(revision, input.actionUid);
  if (canary.annotations[rolloutAttemptAnnotation] === token) {
    return {
      kind: 'already',
      token,
      message: `a new rollout of revision ${revision} of ${ref} was asked for`,
    };
  }
  const running = input.rollouts.find((r) => r.status === 'RUNNING');
  if (running) {
    return {
      kind: 'refused',
      message: `a rollout of ${ref} is running (${running.workflowId}): retry starts a new rollout only after one ended rolled back or failed; abort it first (cutover abort ${ref} --reason TEXT)`,
    };
  }
  const latest = [...input.rollouts]
    .filter((r) => r.revision === revision)
    .sort((a, b) => b.startTime.getTime() - a.startTime.getTime())[0];
  if (!latest) {
    return {
      kind: 'refused',
      message: `revision ${revision} of ${ref} has not been rolled out yet: nothing to retry (a change of the target's template starts its rollout)`,
    };
  }
  if (latest.phase !== 'Failed' && !endedBadly.has(latest.status)) {
    return {
      kind: 'refused',
      message: `the latest rollout of revision ${revision} of ${ref} (${latest.workflowId}) ended ${latest.phase ?? latest.status.toLowerCase()}, not rolled back or failed: nothing to retry`,
    };
  }
  return {
    kind: 'retry',
    token,
    annotations: { [rolloutAttemptAnnotation]: token },
    message: `a new rollout of revision ${revision} of ${ref} starts (its last rollout, ${latest.workflowId}, ended ${latest.phase === 'Failed' ? 'rolled back' : latest.status.toLowerCase()})`,
  };
}
