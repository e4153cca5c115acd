// Prometheus instant queries for the analysis. A query that runs and finds nothing, or that
// Prometheus rejects, is a RESULT the workflow turns into a failed check; only an unreachable or
// failing Prometheus throws, so that Temporal retries the activity.

import { quoteForMessage, redactUrl } from '../canary/redact.ts';
import type { MetricQueryResult } from '../analysis/metric-check.ts';
import {
  OutboundCallError,
  boundedRequest,
  prometheusMaxResponseBytes,
  throwIfCancelled,
} from './bounded-http.ts';
import type { DestinationPolicy } from './bounded-http.ts';

export type { MetricQueryResult } from '../analysis/metric-check.ts';

export interface PrometheusQueryInput {
  /** Base URL of the Prometheus API, e.g. `http://prometheus:9090` (a path prefix is kept). */
  address: string;
  /** PromQL; runs of whitespace are collapsed to one space, as Flagger does. */
  query: string;
  /** The whole exchange, body included. Default 5000, Flagger's. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer …`; wins over `basicAuth`, as in Flagger. */
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  headers?: Record<string, string>;
  /** Accept any TLS certificate. */
  insecureSkipVerify?: boolean;
  /** Where the worker may send queries. Default: anywhere but link-local and cloud metadata. */
  policy?: DestinationPolicy;
  /** Default 1 MiB: a larger answer fails the check rather than the worker's memory. */
  maxResponseBytes?: number;
}

/** Prometheus could not be asked, or could not answer (connection failure, 429, 5xx). Retryable. */
export class PrometheusUnavailableError extends Error {
  override name = 'PrometheusUnavailableError';
}

const defaultTimeoutMs = 5000;

export async function queryPrometheus(input: PrometheusQueryInput): Promise<MetricQueryResult> {
  const url = queryUrl(input.address);
  if (!url.ok) return { kind: 'error', message: url.error };
  const shown = shownAddress(url.url);
  const query = input.query.replace(/\s+/g, ' ').trim();
  url.url.searchParams.set('query', query);

  const headers: Record<string, string> = { Accept: 'application/json', ...input.headers };
  if (input.bearerToken) {
    headers.Authorization = `Bearer ${input.bearerToken}`;
  } else if (input.basicAuth?.username && input.basicAuth.password) {
    const { username, password } = input.basicAuth;
    headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  // Whatever Prometheus (or whatever answers in its place) says is quoted without these.
  const secrets = [input.bearerToken, input.basicAuth?.password, url.url.password || undefined];
  const quote = (text: string): string => errorText(text, secrets);

  let status: number;
  let body: string;
  try {
    const response = await boundedRequest({
      method: 'GET',
      url: url.url,
      headers,
      timeoutMs: input.timeoutMs ?? defaultTimeoutMs,
      maxResponseBytes: input.maxResponseBytes ?? prometheusMaxResponseBytes,
      overflow: 'error',
      ...(input.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
      ...(input.policy ? { policy: input.policy } : {}),
    });
    status = response.status;
    body = response.body;
  } catch (error) {
    throwIfCancelled(error);
    const reason = transportError(error, shown);
    if (error instanceof OutboundCallError && !error.retryable) {
      // A denied address, a redirect, an oversized answer: asking again gives the same. A failed check.
      return { kind: 'error', message: quoteForMessage(reason, { secrets, max: 512 }) };
    }
    throw new PrometheusUnavailableError(
      `Prometheus at ${shown} is unreachable: ${quoteForMessage(reason, { secrets, max: 512 })}`,
    );
  }

  if (status === 429 || status >= 500) {
    throw new PrometheusUnavailableError(`Prometheus at ${shown} answered HTTP ${status}: ${quote(body)}`);
  }
  if (status >= 300) {
    // 400 bad_data, 422 execution error, 401/403/404 misconfiguration: retrying will not help.
    return { kind: 'error', message: `HTTP ${status}: ${quote(body)}` };
  }
  return interpret(body, quote);
}

function queryUrl(address: string): { ok: true; url: URL } | { ok: false; error: string } {
  let base: URL;
  try {
    base = new URL(address);
  } catch {
    return { ok: false, error: `Prometheus address "${redactUrl(address)}" is not a valid URL` };
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    return { ok: false, error: `Prometheus address "${redactUrl(address)}" must be an http or https URL` };
  }
  const url = new URL(base);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.search = '';
  url.hash = '';
  return { ok: true, url };
}

interface PrometheusResponse {
  status?: unknown;
  error?: unknown;
  errorType?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

function interpret(body: string, quote: (text: string) => string): MetricQueryResult {
  let parsed: PrometheusResponse;
  try {
    parsed = JSON.parse(body) as PrometheusResponse;
  } catch {
    return { kind: 'error', message: `the answer is not Prometheus JSON: ${quote(body)}` };
  }
  if (parsed.status === 'error') {
    return {
      kind: 'error',
      message: quote(`${String(parsed.errorType ?? 'error')}: ${String(parsed.error ?? '')}`),
    };
  }
  const { resultType, result } = parsed.data ?? {};
  let sample: unknown;
  if (resultType === 'scalar') {
    sample = result;
  } else if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) return { kind: 'no-data', reason: 'no values found' };
    // Several series: Flagger's loop keeps the value of the LAST series; do the same, so a query
    // that returns several series gives the verdict it gives under Flagger.
    sample = (result[result.length - 1] as { value?: unknown }).value;
  } else {
    return {
      kind: 'error',
      message: `unsupported result type ${JSON.stringify(resultType)}: the query must return an instant vector or a scalar`,
    };
  }
  const text = Array.isArray(sample) ? sample[1] : undefined;
  if (typeof text !== 'string') {
    return {
      kind: 'error',
      message: `malformed sample in Prometheus answer: ${quote(JSON.stringify(sample) ?? 'nothing')}`,
    };
  }
  const value = parsePromFloat(text);
  if (value === undefined) return { kind: 'error', message: `sample value "${quote(text)}" is not a number` };
  if (Number.isNaN(value)) return { kind: 'no-data', reason: 'no values found (the query returned NaN)' };
  if (!Number.isFinite(value)) {
    return { kind: 'no-data', reason: `no values found (the query returned ${value > 0 ? '+Inf' : '-Inf'})` };
  }
  return { kind: 'value', value };
}

/** Prometheus writes sample values with Go's FormatFloat: digits, `NaN`, `+Inf`, `-Inf`. */
function parsePromFloat(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === 'NaN') return NaN;
  if (/^\+?Inf$/i.test(trimmed)) return Infinity;
  if (/^-Inf$/i.test(trimmed)) return -Infinity;
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isNaN(value) ? undefined : value;
}

/** The error of a Prometheus error answer, else the body itself: redacted, at most 256 characters. */
function errorText(body: string, secrets: (string | undefined)[]): string {
  let text = body;
  try {
    const parsed = JSON.parse(body) as PrometheusResponse;
    if (parsed.status === 'error' && parsed.error !== undefined) {
      text = `${String(parsed.errorType ?? 'error')}: ${String(parsed.error)}`;
    }
  } catch {
    // not JSON: show the text itself
  }
  return quoteForMessage(text, { secrets }) || '(empty body)';
}

function transportError(error: unknown, shown: string): string {
  if (!(error instanceof OutboundCallError)) return error instanceof Error ? error.message : String(error);
  switch (error.kind) {
    case 'timeout':
      return `timed out (${error.reason})`;
    case 'too-large':
      return `the answer of Prometheus at ${shown} is too large (${error.reason}): make the query return a single series (e.g. wrap it in sum())`;
    case 'denied':
      return `Prometheus at ${shown} is refused: ${error.reason}`;
    default:
      return error.retryable ? error.reason : `Prometheus at ${shown} ${error.reason}`;
  }
}

/** The address without credentials or the query, for messages. */
function shownAddress(url: URL): string {
  return redactUrl(`${url.protocol}//${url.host}${url.pathname}`);
}
