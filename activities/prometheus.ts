// Prometheus instant queries for the analysis. A query that runs and finds nothing, or that
// Prometheus rejects, is a RESULT the workflow turns into a failed check; only an unreachable or
// failing Prometheus throws, so that Temporal retries the activity.

import https from 'node:https';
import axios, { AxiosError } from 'axios';
import type { MetricQueryResult } from '../analysis/metric-check.ts';

export type { MetricQueryResult } from '../analysis/metric-check.ts';

export interface PrometheusQueryInput {
  /** Base URL of the Prometheus API, e.g. `http://prometheus:9090` (a path prefix is kept). */
  address: string;
  /** PromQL; runs of whitespace are collapsed to one space, as Flagger does. */
  query: string;
  /** Default 5000, Flagger's. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer …`; wins over `basicAuth`, as in Flagger. */
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  headers?: Record<string, string>;
  /** Accept any TLS certificate. */
  insecureSkipVerify?: boolean;
}

/** Prometheus could not be asked, or could not answer (connection failure, 429, 5xx). Retryable. */
export class PrometheusUnavailableError extends Error {
  override name = 'PrometheusUnavailableError';
}

const defaultTimeoutMs = 5000;
const maxErrorText = 1024;

export async function queryPrometheus(input: PrometheusQueryInput): Promise<MetricQueryResult> {
  const url = queryUrl(input.address);
  if (!url.ok) return { kind: 'error', message: url.error };
  const query = input.query.replace(/\s+/g, ' ').trim();
  url.url.searchParams.set('query', query);

  const headers: Record<string, string> = { Accept: 'application/json', ...input.headers };
  if (input.bearerToken) {
    headers.Authorization = `Bearer ${input.bearerToken}`;
  } else if (input.basicAuth?.username && input.basicAuth.password) {
    const { username, password } = input.basicAuth;
    headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  let status: number;
  let body: string;
  try {
    const response = await axios.get<string>(url.url.toString(), {
      headers,
      timeout: input.timeoutMs ?? defaultTimeoutMs,
      responseType: 'text',
      transformResponse: (data: string) => data,
      validateStatus: () => true,
      ...(input.insecureSkipVerify ? { httpsAgent: new https.Agent({ rejectUnauthorized: false }) } : {}),
    });
    status = response.status;
    body = typeof response.data === 'string' ? response.data : String(response.data);
  } catch (error) {
    throw new PrometheusUnavailableError(
      `Prometheus at ${redact(url.url)} is unreachable: ${transportError(error)}`,
      { cause: error },
    );
  }

  if (status === 429 || status >= 500) {
    throw new PrometheusUnavailableError(
      `Prometheus at ${redact(url.url)} answered HTTP ${status}: ${errorText(body)}`,
    );
  }
  if (status >= 300) {
    // 400 bad_data, 422 execution error, 401/403/404 misconfiguration: retrying will not help.
    return { kind: 'error', message: `HTTP ${status}: ${errorText(body)}` };
  }
  return interpret(body);
}

function queryUrl(address: string): { ok: true; url: URL } | { ok: false; error: string } {
  let base: URL;
  try {
    base = new URL(address);
  } catch {
    return { ok: false, error: `Prometheus address "${address}" is not a valid URL` };
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    return { ok: false, error: `Prometheus address "${address}" must be an http or https URL` };
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

function interpret(body: string): MetricQueryResult {
  let parsed: PrometheusResponse;
  try {
    parsed = JSON.parse(body) as PrometheusResponse;
  } catch {
    return { kind: 'error', message: `the answer is not Prometheus JSON: ${errorText(body)}` };
  }
  if (parsed.status === 'error') {
    return {
      kind: 'error',
      message: `${String(parsed.errorType ?? 'error')}: ${String(parsed.error ?? '')}`,
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
      message: `malformed sample in Prometheus answer: ${errorText(JSON.stringify(sample))}`,
    };
  }
  const value = parsePromFloat(text);
  if (value === undefined) return { kind: 'error', message: `sample value "${text}" is not a number` };
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

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as PrometheusResponse;
    if (parsed.status === 'error' && parsed.error !== undefined) {
      return `${String(parsed.errorType ?? 'error')}: ${String(parsed.error)}`;
    }
  } catch {
    // not JSON: show the text itself
  }
  const text = body.trim();
  return text.length > maxErrorText ? `${text.slice(0, maxErrorText)}…` : text || '(empty body)';
}

function transportError(error: unknown): string {
  if (error instanceof AxiosError) {
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') return `timed out (${error.message})`;
    return error.code ? `${error.code} ${error.message}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The URL without credentials or the query, for messages. */
function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
