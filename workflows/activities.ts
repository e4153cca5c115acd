// The activities as the workflows see them: proxies with timeouts and retry policies chosen per
// kind of side effect. Types only come from activities/; nothing with I/O is imported here.
import { proxyActivities } from '@temporalio/workflow';
import type { CutoverActivities } from '../activities/index.ts';

/**
 * Kubernetes writes and reads are idempotent (server-side apply, precise patches), so they retry
 * until the API server answers: a rollout waits out an outage rather than failing because of it.
 * Bad requests are thrown as non-retryable by the activities themselves.
 */
export const kubernetes = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '15s' },
});

/** Readiness waits: an activity that polls for a few seconds, heartbeating. */
export const readinessWaits = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/** Prometheus reads: a few quick retries, then the check counts as failed (as in Flagger). */
export const metrics = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '250ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 3 },
});

/**
 * Webhooks apply Flagger's retry rule inside the activity, so Temporal retries only when the activity
 * itself was lost (a worker crash or a timeout): at most once more. The timeout is per call.
 */
export function webhooks(timeoutMs: number, retries: number): CutoverActivities {
  return proxyActivities<CutoverActivities>({
    startToCloseTimeout: (retries + 1) * (timeoutMs + 5_000) + 5_000,
    retry: { maximumAttempts: 2 },
  });
}

/** Alerts are best effort: a chat outage must not hold up a rollout. */
export const notifications = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

/** Waiting for the rollout of an older revision to hand over: long, heartbeating. */
export const handover = proxyActivities<CutoverActivities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s' },
});
