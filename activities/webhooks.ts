// Flagger webhooks (confirm-rollout, pre-rollout, rollout, confirm-promotion, post-rollout,
// rollback, event): a JSON POST whose answer decides. A hook that fails after its retries is a
// RESULT (`ok: false`) the workflow decides on, never an exception: Flagger's retry rules apply
// here, inside the activity, so the activity itself must not be retried for a failing hook.
//
// Budget the activity's start-to-close timeout for the worst case:
// (retries + 1) × timeoutMs + the backoff between attempts (at most `retries` × 5s).

import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import axios, { AxiosError } from 'axios';
import type { WebhookPayload } from '../canary/webhook-payload.ts';

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
}

export interface WebhookResult {
  /** Flagger's rule: an HTTP status of 202 or less passes, anything else (or no answer) fails. */
  ok: boolean;
  /** The last answer's status, if there was an answer. */
  status?: number;
  /** The last answer's body, trimmed, at most 1 KiB. */
  body?: string;
  /** Why the hook failed, with the status and the body (loadtester puts its reason there). */
  error?: string;
  attempts: number;
  durationMs: number;
}

const maxBodyBytes = 1024;
const maxBackoffMs = 5000;
const defaultBackoffMs = 500;

/** TLS failures a retry will not fix. */
const permanentTlsCodes = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export async function callWebhook(input: CallWebhookInput): Promise<WebhookResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);

  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return { ok: false, error: `webhook URL "${input.url}" is not a valid URL`, attempts: 0, durationMs: 0 };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      ok: false,
      error: `webhook URL "${input.url}" must be http or https`,
      attempts: 0,
      durationMs: 0,
    };
  }

  const maxAttempts = 1 + Math.max(0, Math.floor(input.retries));
  const httpsAgent = input.disableTLS ? new https.Agent({ rejectUnauthorized: false }) : undefined;
  const data = JSON.stringify(input.payload);
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const outcome = await attempt(url.toString(), data, input.timeoutMs, httpsAgent);
    const canRetry = attempts < maxAttempts && outcome.retryable;
    if (outcome.kind === 'answer') {
      const { status, body } = outcome;
      if (status <= 202) return { ok: true, status, body, attempts, durationMs: elapsed() };
      if (!canRetry) {
        return {
          ok: false,
          status,
          body,
          error: `POST ${input.url} ${tries(attempts)}: HTTP ${status}: ${body || '(empty body)'}`,
          attempts,
          durationMs: elapsed(),
        };
      }
    } else if (!canRetry) {
      return {
        ok: false,
        error: `POST ${input.url} ${tries(attempts)}: ${outcome.error}`,
        attempts,
        durationMs: elapsed(),
      };
    }
    const backoff = Math.min((input.retryBackoffMs ?? defaultBackoffMs) * 2 ** (attempts - 1), maxBackoffMs);
    await sleep(backoff);
  }
}

type Attempt =
  | { kind: 'answer'; status: number; body: string; retryable: boolean }
  | { kind: 'no-answer'; error: string; retryable: boolean };

async function attempt(
  url: string,
  data: string,
  timeoutMs: number,
  httpsAgent: https.Agent | undefined,
): Promise<Attempt> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await axios.post<Readable>(url, data, {
      headers: { 'Content-Type': 'application/json' },
      responseType: 'stream',
      signal,
      validateStatus: () => true,
      ...(httpsAgent ? { httpsAgent } : {}),
    });
    const body = await readBounded(response.data);
    const status = response.status;
    // As go-retryablehttp (Flagger's client) decides: 429 and 5xx except 501 Not Implemented.
    return { kind: 'answer', status, body, retryable: status === 429 || (status >= 500 && status !== 501) };
  } catch (error) {
    if (signal.aborted) {
      return { kind: 'no-answer', error: `no answer within ${timeoutMs}ms`, retryable: true };
    }
    const code = error instanceof AxiosError ? error.code : undefined;
    const message = error instanceof Error ? error.message : String(error);
    return {
      kind: 'no-answer',
      error: code && !message.includes(code) ? `${code} ${message}` : message,
      retryable: !(code && permanentTlsCodes.has(code)),
    };
  }
}

/** The first KiB of the body, trimmed; the rest is not read. */
async function readBounded(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(buffer);
    size += buffer.length;
    if (size > maxBodyBytes) {
      truncated = true;
      break;
    }
  }
  stream.destroy();
  const text = Buffer.concat(chunks).subarray(0, maxBodyBytes).toString('utf8').trim();
  return truncated ? `${text}…` : text;
}

function tries(attempts: number): string {
  return attempts === 1 ? 'failed' : `failed after ${attempts} attempts`;
}
