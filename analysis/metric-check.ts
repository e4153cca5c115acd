// The verdict on one metric of one analysis iteration, worded like Flagger's events so that what
// users grep for keeps matching. Pure: importable from workflow code.

import { builtinMetricValue, isBuiltinMetric } from './builtin-queries.ts';
import { goDurationFromMs, goFixed2, goFloat } from './go-format.ts';

/** What a metric query produced; `activities/prometheus.ts` returns exactly this. */
export type MetricQueryResult =
  { kind: 'value'; value: number } | { kind: 'no-data'; reason: string } | { kind: 'error'; message: string };

/**
 * What to do when a query returns no values (an empty vector or NaN). Flagger always fails the
 * check (`fail`, the default); `pass` counts the check as passed; `skip` ignores it this iteration.
 */
export type NoDataPolicy = 'fail' | 'pass' | 'skip';

export interface ThresholdRange {
  min?: number;
  max?: number;
}

/**
 * Where the metric comes from, which decides Flagger's wording: a builtin of the provider
 * (`request-success-rate`, `request-duration`), a MetricTemplate (`templateRef`), or a PromQL
 * `query` written inline in the Canary.
 */
export type MetricSource = 'builtin' | 'template' | 'query';

export interface MetricCheckInput {
  /** The metric's name in `analysis.metrics[]`. */
  name: string;
  /** Needed for the event text: `<name>.<namespace>`, and `<target>.<namespace>` when there is no traffic. */
  canary: { name: string; namespace: string; target: string };
  /** Default: `builtin` for the builtin names, `template` otherwise. */
  source?: MetricSource;
  /** The metrics provider named in the no-data message of a builtin metric. Default `kubernetes`. */
  provider?: string;
  /** For builtin `request-duration`: the query's value in seconds, as Prometheus returns it. */
  result: MetricQueryResult;
  /** For builtin `request-duration`: milliseconds. */
  thresholdRange: ThresholdRange;
  noDataPolicy?: NoDataPolicy;
}

export interface MetricCheckVerdict {
  passed: boolean;
  /** True when the no-data policy `skip` applied: the check neither passed nor failed. */
  skipped?: boolean;
  /** The value compared with the thresholds (milliseconds for builtin `request-duration`). */
  value?: number;
  /**
   * Set when `value` is not in the unit the query returned: `ms` for builtin `request-duration`, whose
   * query returns seconds. Flagger exports that metric in seconds (`flagger_canary_metric_analysis`).
   */
  valueUnit?: 'ms';
  /** Set when the query returned no values: the policy that decided the verdict. */
  noDataPolicy?: NoDataPolicy;
  /**
   * Set when the check was inconclusive (no values, or the query failed): why, in a few words. A
   * RolloutPolicy's `analysis.inconclusive` decides what that means; without one it is a failure.
   */
  inconclusive?: string;
  /** A Flagger-worded event: "Halt podinfo.test advancement success rate 95.00% < 99%". */
  message: string;
}

export function evaluateMetricCheck(input: MetricCheckInput): MetricCheckVerdict {
  const { name, canary, result } = input;
  const source = input.source ?? (isBuiltinMetric(name) ? 'builtin' : 'template');

  if (result.kind === 'error') {
    const message = queryFailedMessage(source, name, result.message);
    return { passed: false, message, inconclusive: message };
  }
  if (result.kind === 'no-data' || !Number.isFinite(result.value)) {
    const reason = result.kind === 'no-data' ? result.reason : 'no values found';
    return noDataVerdict(input, source, reason);
  }

  const builtin = source === 'builtin' && isBuiltinMetric(name) ? name : undefined;
  const value = builtin ? builtinMetricValue(builtin, result.value) : result.value;
  // Flagger compares request-duration as whole-millisecond Durations: truncate its bounds likewise.
  const bound = (limit: number): number => (builtin === 'request-duration' ? Math.trunc(limit) : limit);
  const { min, max } = input.thresholdRange;
  const halt = `Halt ${canary.name}.${canary.namespace} advancement`;
  const unit = builtin === 'request-duration' ? { valueUnit: 'ms' as const } : {};

  if (min !== undefined && value < bound(min)) {
    return { passed: false, value, ...unit, message: `${halt} ${describe(builtin, name, value, '<', min)}` };
  }
  if (max !== undefined && value > bound(max)) {
    return { passed: false, value, ...unit, message: `${halt} ${describe(builtin, name, value, '>', max)}` };
  }
  return {
    passed: true,
    value,
    ...unit,
    message: `Metric ${name} ${formatValue(builtin, value)} passed for ${canary.name}.${canary.namespace}${rangeText(builtin, input.thresholdRange)}`,
  };
}

function describe(
  builtin: string | undefined,
  name: string,
  value: number,
  comparison: '<' | '>',
  limit: number,
): string {
  if (builtin === 'request-success-rate') {
    return `success rate ${goFixed2(value)}% ${comparison} ${goFloat(limit)}%`;
  }
  if (builtin === 'request-duration') {
    return `request duration ${goDurationFromMs(value)} ${comparison} ${goDurationFromMs(limit)}`;
  }
  return `${name} ${goFixed2(value)} ${comparison} ${goFloat(limit)}`;
}

function formatValue(builtin: string | undefined, value: number): string {
  if (builtin === 'request-success-rate') return `${goFixed2(value)}%`;
  if (builtin === 'request-duration') return goDurationFromMs(value);
  return goFixed2(value);
}

function rangeText(builtin: string | undefined, range: ThresholdRange): string {
  const limit = (n: number): string =>
    builtin === 'request-duration'
      ? goDurationFromMs(n)
      : `${goFloat(n)}${builtin === 'request-success-rate' ? '%' : ''}`;
  const parts = [
    range.min !== undefined ? `min ${limit(range.min)}` : undefined,
    range.max !== undefined ? `max ${limit(range.max)}` : undefined,
  ].filter((p) => p !== undefined);
  return parts.length > 0 ? ` (${parts.join(', ')})` : ' (no threshold set)';
}

function queryFailedMessage(source: MetricSource, name: string, error: string): string {
  switch (source) {
    case 'builtin':
      return `Prometheus query failed: ${error}`;
    case 'template':
      return `Metric query failed for ${name}: ${error}`;
    case 'query':
      return `Prometheus query failed for ${name}: ${error}`;
  }
}

function noDataVerdict(input: MetricCheckInput, source: MetricSource, reason: string): MetricCheckVerdict {
  const policy = input.noDataPolicy ?? 'fail';
  const { name, canary } = input;
  let what: string;
  switch (source) {
    case 'builtin':
      what =
        `no values found for ${input.provider ?? 'kubernetes'} metric ${name} probably ` +
        `${canary.target}.${canary.namespace} is not receiving traffic` +
        // Flagger appends the query error to this one builtin's message only.
        (name === 'request-success-rate' ? `: ${reason}` : '');
      break;
    case 'template':
      what = `no values found for custom metric: ${name}: ${reason}`;
      break;
    case 'query':
      what = `no values found for metric: ${name}`;
      break;
  }
  const policyText = `(no-data policy: ${policy})`;
  switch (policy) {
    case 'fail':
      return {
        passed: false,
        noDataPolicy: policy,
        inconclusive: what,
        message: `Halt advancement ${what} ${policyText}`,
      };
    case 'pass':
      return {
        passed: true,
        noDataPolicy: policy,
        inconclusive: what,
        message: `Counted as passed: ${what} ${policyText}`,
      };
    case 'skip':
      return {
        passed: true,
        skipped: true,
        noDataPolicy: policy,
        inconclusive: what,
        message: `Check skipped: ${what} ${policyText}`,
      };
  }
}
