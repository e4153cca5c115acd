// Liveness heartbeats for every activity the worker runs: while an activity runs, it heartbeats once a
// second, so when the worker dies (a `kill -9`, an OOM kill, a lost node) Temporal notices within the
// activity's heartbeat timeout (workflows/activities.ts) and hands the step to another worker, instead
// of waiting out its whole start-to-close timeout (up to minutes for a rollout's ending with hooks).
// The heartbeat says only that the process is alive; activities that report progress in their
// heartbeats (readiness waits, the hand-over) keep doing so themselves and are left alone here.
import { Context } from '@temporalio/activity';
import { wrapActivities, type AsyncFunction } from './wrap-activities.ts';

/** How often a running activity heartbeats: well inside the shortest heartbeat timeout (3 s). */
export const livenessHeartbeatMs = 1_000;

/** The activity contexts already heartbeating: a step that calls another activity's function runs one timer. */
const beating = new WeakSet<Context>();

/** The running (non-local) activity's context, or undefined outside one: a direct call, a local activity. */
function currentActivity(): Context | undefined {
  try {
    const context = Context.current();
    // A local activity cannot heartbeat (the SDK drops it): its worker's death is seen by the
    // workflow task's timeout instead.
    return context.info.isLocal ? undefined : context;
  } catch {
    return undefined;
  }
}

/** `fn`, heartbeating every second while it runs inside an activity; the same call elsewhere. */
export function withLivenessHeartbeats<F extends AsyncFunction>(fn: F): F {
  const wrapped = async (...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> => {
    const context = currentActivity();
    if (context === undefined || beating.has(context)) return (await fn(...args)) as Awaited<ReturnType<F>>;
    beating.add(context);
    context.heartbeat();
    const timer = setInterval(() => {
      try {
        context.heartbeat();
      } catch {
        // the activity is finishing; the timer is cleared below
      }
    }, livenessHeartbeatMs);
    try {
      return (await fn(...args)) as Awaited<ReturnType<F>>;
    } finally {
      clearInterval(timer);
      beating.delete(context);
    }
  };
  return wrapped as unknown as F;
}

/**
 * Every function of `activities` wrapped with liveness heartbeats, except those named in `reporting`:
 * they heartbeat themselves with progress details that a bare heartbeat would overwrite.
 */
export function withLivenessHeartbeatsAll<A extends Record<string, unknown>>(
  activities: A,
  reporting: readonly (keyof A)[],
): A {
  return wrapActivities(activities, reporting, withLivenessHeartbeats);
}
