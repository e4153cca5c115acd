// The activities as the workflows see them: proxies with timeouts and retry policies chosen per
// kind of side effect. Types only come from activities/; nothing with I/O is imported here.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ChangeWindowInput, ChangeWindowVerdict } from '../canary/change-control.ts';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import type { CutoverActivities } from '../activities/index.ts';

/**
 * Every activity heartbeats once a second while it runs (activities/heartbeats.ts; the readiness wait
 * with its progress), so a worker that dies mid-step is noticed within this, and the step retried on
 * another worker, instead of at the end of its start-to-close timeout (up to minutes). Options are not
 * part of the history's commands that replay checks, so changing them breaks no running rollout.
 */
export const livenessHeartbeatTimeout = '3s';

/**
 * Kubernetes writes and reads are idempotent (server-side apply, precise patches), so they retry
 * until the API server answers: a rollout waits out an outage rather than failing because of it.
 * Bad requests are thrown as non-retryable by the activities themselves.
 */
export const kubernetes = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '30s',
  heartbeatTimeout: livenessHeartbeatTimeout,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
});

/**
 * Kubernetes writes that the cluster may keep refusing (a full Service range, a quota): a few tries,
 * then the workflow tells the Canary why and tries again on a durable timer.
 */
export const refusedWrites = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '30s',
  heartbeatTimeout: livenessHeartbeatTimeout,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 4 },
});

/** Readiness waits: an activity that polls for a few seconds, heartbeating every second. */
export const readinessWaits = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: livenessHeartbeatTimeout,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/** Prometheus reads: a few quick retries, then the check counts as failed (as in Flagger). */
export const metrics = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '30s',
  heartbeatTimeout: livenessHeartbeatTimeout,
  retry: { initialInterval: '250ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 3 },
});

/**
 * Webhooks apply Flagger's retry rule inside the activity, so Temporal retries only when the activity
 * itself was lost (a worker crash or a timeout): at most once more. The timeout is per call.
 */
export function webhooks(timeoutMs: number, retries: number): CutoverActivities {
  return proxyActivities<CutoverActivities>({
    startToCloseTimeout: (retries + 1) * (timeoutMs + 5_000) + 5_000,
    heartbeatTimeout: livenessHeartbeatTimeout,
    retry: { maximumAttempts: 2 },
  });
}

/** Alerts are best effort: a chat outage must not hold up a rollout. */
export const notifications = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '30s',
  heartbeatTimeout: livenessHeartbeatTimeout,
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

/** Waiting for the rollout of an older revision to hand over: long, heartbeating. */
export const handover = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: livenessHeartbeatTimeout,
  retry: { initialInterval: '1s', maximumInterval: '10s' },
});

// --- Engine v2 (workflows/rollout.ts): typed proxies per retry policy -------------------------------

/**
 * The budget of a step that calls hooks and metric queries: each hook's worst case (Flagger's retry
 * rule inside the call), each query's three attempts, and the Kubernetes writes. The workflow passes
 * it per call, because the hooks are the Canary's.
 */
export function stepBudgetMs(hooks: { timeoutMs: number; retries: number }[], metricQueries = 0): number {
  const hookMs = hooks.reduce((sum, h) => sum + (h.retries + 1) * (h.timeoutMs + 5_000), 0);
  return 30_000 + hookMs + metricQueries * 3 * 15_000;
}

/**
 * The analysis tick, the hook gates and progress reports run as local activities: one marker in the
 * history instead of a task-queue round trip and three events. A failure (the API server down) is
 * retried until it answers, on durable timers past `localRetryThreshold`, so a rollout waits out an
 * outage. Every step writes with stable keys, so a retried step never doubles an event.
 */
export function localStepOptions(budgetMs: number, summary: string): LocalActivityOptions {
  return {
    startToCloseTimeout: budgetMs,
    localRetryThreshold: '10s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
    summary,
  };
}
export const { runAnalysisTick, runHooks, reportRollout } = proxyLocalActivities<CutoverActivities>(
  localStepOptions(60_000, 'rollout step'),
);

/**
 * A rollout's ending (scale, status, alert, post-rollout hooks): a normal activity, retried until done.
 * Its budget covers every hook's worst case; the heartbeat, a crash.
 */
export function endingOptions(budgetMs: number, summary: string): ActivityOptions {
  return {
    startToCloseTimeout: budgetMs,
    heartbeatTimeout: livenessHeartbeatTimeout,
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
    summary,
  };
}
export const { rollBackCanary, completePromotion } = proxyActivities<CutoverActivities>(
  endingOptions(120_000, 'rollout ending'),
);

/** Kubernetes writes of the engine: short, idempotent, retried until the API server answers. */
export const kubernetesWriteOptions: ActivityOptions = {
  startToCloseTimeout: '30s',
  heartbeatTimeout: livenessHeartbeatTimeout,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
};
export const { scaleUpCanary, promoteCanary } = proxyActivities<CutoverActivities>(kubernetesWriteOptions);

/**
 * Switch mode's flip of the apex Service: one short, idempotent patch, run as a local activity so a
 * rollback waits for no task-queue round trip; retried until it lands.
 */
export const { switchApex } = proxyLocalActivities<CutoverActivities>({
  startToCloseTimeout: '10s',
  localRetryThreshold: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
  summary: 'switch the apex Service',
});

/** The activity a change-control gate asks (activities/change-window.ts): deploy windows and freezes. */
interface ChangeWindowActivities {
  checkChangeWindow(input: ChangeWindowInput): Promise<ChangeWindowVerdict>;
}

/** Deploy windows and freezes, asked at a gate: one bounded read, a local activity retried until it answers. */
export const { checkChangeWindow } = proxyLocalActivities<ChangeWindowActivities>({
  startToCloseTimeout: '20s',
  localRetryThreshold: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
  summary: 'deploy windows and freezes',
});
