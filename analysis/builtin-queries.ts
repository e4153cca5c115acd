// The builtin metrics of Flagger's `kubernetes` provider (Flagger's HTTP observer), measured on
// the green (canary) pods only. Deployment pods are named `<target>-<replicaset hash>-<pod hash>`;
// the regex (anchored by Prometheus) wants exactly two segments after `<target>-`, so the primary's
// pods, `<target>-primary-<rs hash>-<pod hash>`, never match.
// Pure: importable from workflow code.

import { renderQueryTemplate, type QueryTemplateModel, type RenderedQuery } from './query-template.ts';

export const builtinMetricNames = ['request-success-rate', 'request-duration'] as const;
export type BuiltinMetricName = (typeof builtinMetricNames)[number];

export function isBuiltinMetric(name: string): name is BuiltinMetricName {
  return (builtinMetricNames as readonly string[]).includes(name);
}

const canaryPods = `kubernetes_namespace="{{ namespace }}", kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`;

/** The query templates, in MetricTemplate syntax. */
export const builtinQueryTemplates: Record<BuiltinMetricName, string> = {
  // Percentage of requests that did not answer 5xx.
  'request-success-rate': [
    `sum(rate(http_request_duration_seconds_count{${canaryPods}, status!~"5.*"}[{{ interval }}]))`,
    `/`,
    `sum(rate(http_request_duration_seconds_count{${canaryPods}}[{{ interval }}]))`,
    `* 100`,
  ].join(' '),
  // P99 latency, in seconds (see builtinMetricValue).
  'request-duration': `histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{${canaryPods}}[{{ interval }}])) by (le))`,
};

/** The query of a builtin metric for one Canary; `interval` is the metric's (Flagger's default: `1m`). */
export function builtinQuery(
  name: BuiltinMetricName,
  model: Pick<QueryTemplateModel, 'name' | 'namespace' | 'target' | 'interval'>,
): RenderedQuery {
  return renderQueryTemplate(builtinQueryTemplates[name], model);
}

/**
 * The value a builtin metric's thresholds are compared with. `request-duration` is compared in
 * whole milliseconds: the query returns seconds, and Flagger truncates to a millisecond Duration.
 */
export function builtinMetricValue(name: BuiltinMetricName, queryValue: number): number {
  return name === 'request-duration' ? Math.trunc(queryValue * 1000) : queryValue;
}
