// Flagger webhooks (confirm-rollout, pre-rollout, rollout, confirm-promotion, post-rollout,
// rollback, event): a JSON POST whose answer decides. A hook that fails after its retries is a
// RESULT (`ok: false`) the workflow decides on, never an exception: Flagger's retry rules apply
// here, inside the activity, so the activity itself must not be retried for a failing hook.
//
// Budget the activity's start-to-close timeout for the worst case:
// (retries + 1) × timeoutMs + the backoff between attempts (at most `retries` × 5s).

import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { quoteForMessage, redactText, redactUrl } from '../canary/redact.ts';
import type { WebhookPayload } from '../canary/webhook-payload.ts';
import {
  OutboundCallError,
  activityCancellationSignal,
  boundedRequest,
  hookMaxResponseBytes,
  throwIfCancelled,
} from './bounded-http.ts';
import type { DestinationPolicy } from './bounded-http.ts';

export type { WebhookPayload } from '../canary/webhook-payload.ts';
export { eventWebhookPayload } from '../canary/webhook-payload.ts';

export interface CallWebhookInput {
  url: string;
  /** Per attempt, covering the whole exchange. Flagger's default is 10s. */
  timeoutMs: number;
  /** Extra attempts after a connection error, a 429 or a 5xx. Flagger's default is 0. */
  retries: number;
  /** Do not verify the hook's TLS certificate. */
  disableTLS?: boolean;
  payload: WebhookPayload;
  /** First pause between attempts, doubled each time, at most 5s. Default 500ms. */
  retryBackoffMs?: number;
  /**
   * Sent as the `Idempotency-Key` header of every attempt, so a receiver can recognise a call it has
   * seen: hooks are delivered at least once (a worker that dies mid-call has the call made again).
   * Header-safe text (printable ASCII, at most 255 characters) is sent as is, anything else as its
   * SHA-256. Default: derived from the activity (workflow id, run id and activity id: the same for
   * every retry of this activity); outside an activity, a random key per call.
   */
  idempotencyKey?: string;
}

export interface WebhookResult {
  /** Flagger's rule: an HTTP status of 202 or less passes, anything else (or no answer) fails. */
  ok: boolean;
  /** The last answer's status, if there was an answer. */
  status?: number;
  /** The last answer's body, trimmed, at most 1 KiB, credentials removed. */
  body?: string;
  /** Why the hook failed, with the status and the body (loadtester puts its reason there). */
  error?: string;
  attempts: number;
  durationMs: number;
  /** The `Idempotency-Key` the attempts carried. */
  idempotencyKey?: string;
}

export interface WebhookActivityDeps {
  /** Where hooks may go (the worker's outbound allow/deny list). Default: not link-local or metadata. */
  outboundPolicy?: DestinationPolicy;
}

/** The header every hook call carries; the name of the IETF draft and of Stripe's and others' APIs. */
export const idempotencyKeyHeader = 'Idempotency-Key';

const maxKeptBodyChars = 1024;
const maxBackoffMs = 5000;
const defaultBackoffMs = 500;

/** The webhook activity, sending within the worker's destination policy. */
export function createWebhookActivities(deps: WebhookActivityDeps = {}) {
  return {
    callWebhook: (input: CallWebhookInput): Promise<WebhookResult> =>
      deliverWebhook(input, deps.outboundPolicy),
  };
}

/** The webhook activity under the default destination policy. */
export async function callWebhook(input: CallWebhookInput): Promise<WebhookResult> {
  return deliverWebhook(input, undefined);
}

async function deliverWebhook(
  input: CallWebhookInput,
  policy: DestinationPolicy | undefined,
): Promise<WebhookResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const shown = redactUrl(input.url);

  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return { ok: false, error: `webhook URL "${shown}" is not a valid URL`, attempts: 0, durationMs: 0 };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      ok: false,
      error: `webhook URL "${shown}" must be http or https`,
      attempts: 0,
      durationMs: 0,
    };
  }

  const idempotencyKey = headerSafeKey(input.idempotencyKey ?? activityCallKey());
  const maxAttempts = 1 + Math.max(0, Math.floor(input.retries));
  const data = JSON.stringify(input.payload);
  const signal = activityCancellationSignal();
  // A hook may take (retries + 1) × timeout: heartbeat meanwhile, so that a worker that dies in the
  // middle is noticed within the activity's heartbeat timeout, not its whole start-to-close timeout.
  const stopHeartbeats = heartbeatEverySecond();
  try {
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const outcome = await attempt(url, data, input, idempotencyKey, policy);
      const canRetry = attempts < maxAttempts && outcome.retryable;
      if (outcome.kind === 'answer') {
        const { status, body } = outcome;
        if (status <= 202) return { ok: true, status, body, attempts, durationMs: elapsed(), idempotencyKey };
        if (!canRetry) {
          return {
            ok: false,
            status,
            body,
            error: `POST ${shown} ${tries(attempts)}: HTTP ${status}: ${quoteForMessage(body) || '(empty body)'}`,
            attempts,
            durationMs: elapsed(),
            idempotencyKey,
          };
        }
      } else if (!canRetry) {
        return {
          ok: false,
          error: `POST ${shown} ${tries(attempts)}: ${outcome.error}`,
          attempts,
          durationMs: elapsed(),
          idempotencyKey,
        };
      }
      const backoff = Math.min(
        (input.retryBackoffMs ?? defaultBackoffMs) * 2 ** (attempts - 1),
        maxBackoffMs,
      );
      await sleep(backoff, undefined, signal ? { signal } : {});
    }
  } finally {
    stopHeartbeats();
  }
}

/** Heartbeats the current activity once a second until stopped; outside an activity, nothing. */
function heartbeatEverySecond(): () => void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return () => undefined;
  }
  const timer = setInterval(() => {
    try {
      context.heartbeat();
    } catch {
      // the activity is finishing; the next tick is cleared
    }
  }, 1000);
  return () => clearInterval(timer);
}

type Attempt =
  | { kind: 'answer'; status: number; body: string; retryable: boolean }
  | { kind: 'no-answer'; error: string; retryable: boolean };

async function attempt(
  url: URL,
  data: string,
  input: CallWebhookInput,
  idempotencyKey: string,
  policy: DestinationPolicy | undefined,
): Promise<Attempt> {
  try {
    const response = await boundedRequest({
      method: 'POST',
      url,
      headers: { 'Content-Type': 'application/json', [idempotencyKeyHeader]: idempotencyKey },
      body: data,
      timeoutMs: input.timeoutMs,
      // Only the start of a hook's answer is its reason: read 64 KiB at most, keep 1 KiB.
      maxResponseBytes: hookMaxResponseBytes,
      overflow: 'truncate',
      ...(input.disableTLS ? { insecureSkipVerify: true } : {}),
      ...(policy ? { policy } : {}),
    });
    const status = response.status;
    const body = keptBody(response.body, response.truncated);
    // As go-retryablehttp (Flagger's client) decides: 429 and 5xx except 501 Not Implemented.
    return { kind: 'answer', status, body, retryable: status === 429 || (status >= 500 && status !== 501) };
  } catch (error) {
    if (!(error instanceof OutboundCallError)) throw error;
    throwIfCancelled(error);
    const reason = error.kind === 'timeout' ? `no answer within ${input.timeoutMs}ms` : error.reason;
    return { kind: 'no-answer', error: quoteForMessage(reason, { max: 512 }), retryable: error.retryable };
  }
}

/** The first KiB of the body, trimmed and without credentials. */
function keptBody(body: string, truncated: boolean): string {
  const text = redactText(body).trim();
  if (text.length <= maxKeptBodyChars && !truncated) return text;
  return `${text.slice(0, maxKeptBodyChars)}…`;
}

/** The same for every attempt of this activity, different for every other call. */
function activityCallKey(): string {
  try {
    const { workflowExecution, activityId } = Context.current().info;
    // The run id is part of it: activity ids restart at 1 in every run (continue-as-new, reset), so
    // without it a later run's different call could carry an earlier call's key and be dropped.
    if (workflowExecution) return `${workflowExecution.workflowId}/${workflowExecution.runId}/${activityId}`;
    return `activity/${activityId}`; // an activity started on its own: its id is unique
  } catch {
    return randomUUID(); // not inside an activity: every call is its own
  }
}

function headerSafeKey(key: string): string {
  if (key.length > 0 && key.length <= 255 && /^[\x21-\x7e]+$/.test(key)) return key;
  return createHash('sha256').update(key).digest('hex');
}

function tries(attempts: number): string {
  return attempts === 1 ? 'failed' : `failed after ${attempts} attempts`;
}
