// How fast the work of a worker that died (`kill -9`, OOM kill, lost node) moves to another one. Temporal
// notices a dead worker only by a timeout, one per kind of work in flight:
//   - an activity: its heartbeat timeout (3 s, workflows/activities.ts; every activity heartbeats each
//     second, activities/heartbeats.ts);
//   - a workflow task, and the local activities run inside it (analysis ticks, hook gates, status
//     reports, apex flips): the workflow task timeout, set here on the workflows this worker starts;
//   - a workflow task queued for the dead worker's cache (its sticky queue): the sticky schedule-to-start
//     timeout, after which it goes to the shared queue.
// The SDK defaults are 10 s each, so one crash cost 10 s or more. The figures: test/faults/kill-matrix.
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';

/**
 * How long a workflow task may run before Temporal gives it to another worker. The SDK keeps a task
 * that runs long local activities alive by completing it at 80% of this, so a slow hook or query costs
 * a few history events, not a timeout. Not shorter: on a busy 2-core machine tasks took up to 3.9 s
 * (p99 2.8 s, local activities included), and at 3 s some timed out with no crash, twice in a row,
 * which Temporal answers with a backoff of tens of seconds.
 */
export const workflowTaskTimeoutMs = 5_000;

/**
 * How long a workflow task waits on this worker's sticky queue before any worker may take it (a full
 * replay there). Short, for a crash; long enough for a busy worker to take its own tasks.
 */
export const stickyQueueScheduleToStartMs = 3_000;

/**
 * Heartbeats reach Temporal at least this often (the SDK's default is 80% of the heartbeat timeout,
 * which would leave 0.6 s of a 3 s timeout for the trip).
 */
export const maxHeartbeatThrottleMs = 1_000;

/** The worker options that bound the cost of a crash. */
export const crashRecoveryWorkerOptions = {
  stickyQueueScheduleToStartTimeout: stickyQueueScheduleToStartMs,
  maxHeartbeatThrottleInterval: maxHeartbeatThrottleMs,
} as const;

/**
 * Sets the workflow task timeout on every workflow the client starts, unless the caller set one: the
 * rollouts and initialisations the watcher starts (continue-as-new keeps it).
 */
export function workflowTaskTimeoutInterceptor(timeoutMs = workflowTaskTimeoutMs): WorkflowClientInterceptor {
  return {
    startWithDetails: (input, next) =>
      next(
        input.options.workflowTaskTimeout
          ? input
          : { ...input, options: { ...input.options, workflowTaskTimeout: msToTs(timeoutMs) } },
      ),
  };
}
