// One metric check of one iteration: find the query (builtin, inline or MetricTemplate), the
// Prometheus to ask and its credentials, ask it, and judge the value against the thresholds.
// A failing check is a verdict; only an unreachable Prometheus throws (Temporal retries it).
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { builtinQuery } from '../analysis/builtin-queries.ts';
import { evaluateMetricCheck } from '../analysis/metric-check.ts';
import type { MetricCheckVerdict, NoDataPolicy } from '../analysis/metric-check.ts';
import { renderQueryTemplate } from '../analysis/query-template.ts';
import type { RenderedQuery } from '../analysis/query-template.ts';
import { quoteForMessage, redactUrl } from '../canary/redact.ts';
import { metricTemplateSchema } from '../canary/spec.ts';
import type { MetricCheck } from '../canary/validate.ts';
import type { DestinationPolicy } from './bounded-http.ts';
import { isNotFound, secretText } from './kubernetes-client.ts';
import { queryPrometheus } from './prometheus.ts';
import type { PrometheusQueryInput } from './prometheus.ts';

export interface CheckMetricInput {
  canary: { name: string; namespace: string; target: string; service: string };
  metric: MetricCheck;
  /** The Canary's `metricsServer`, else the worker's default Prometheus. */
  prometheusUrl?: string;
  noDataPolicy?: NoDataPolicy;
}

export interface CheckMetricResult extends MetricCheckVerdict {
  name: string;
  query?: string;
}

interface Deps {
  kubeconfig: k8s.KubeConfig;
  defaultPrometheusUrl: string;
  /** Where queries may go (the worker's outbound allow/deny list). Default: not link-local or metadata. */
  outboundPolicy?: DestinationPolicy;
  /**
   * The worker's informer copy of a MetricTemplate, when it has one (undefined: read the API server).
   * One read fewer per tick and template, as Flagger reads templates through a lister.
   */
  cachedMetricTemplate?: (namespace: string, name: string) => unknown;
}

export function createMetricActivities(deps: Deps) {
  const custom = deps.kubeconfig.makeApiClient(k8s.CustomObjectsApi);
  const core = deps.kubeconfig.makeApiClient(k8s.CoreV1Api);

  /** Resolves a MetricTemplate into a query and where to send it; a broken template is a verdict. */
  async function templateQuery(
    input: CheckMetricInput,
    metric: Extract<MetricCheck, { source: 'template' }>,
  ): Promise<{ query: RenderedQuery; target: Omit<PrometheusQueryInput, 'query'> }> {
    const ref = metric.templateRef;
    let raw: unknown = deps.cachedMetricTemplate?.(ref.namespace, ref.name);
    try {
      raw ??= await custom.getNamespacedCustomObject({
        group: 'flagger.app',
        version: 'v1beta1',
        namespace: ref.namespace,
        plural: 'metrictemplates',
        name: ref.name,
      });
    } catch (error) {
      if (isNotFound(error)) {
        const text = `MetricTemplate ${ref.namespace}/${ref.name} not found: create it, or fix spec.analysis.metrics[${metric.name}].templateRef`;
        return { query: { ok: false, error: text }, target: { address: '' } };
      }
      throw error;
    }
    const parsed = metricTemplateSchema.safeParse(raw);
    if (!parsed.success) {
      const text = `MetricTemplate ${ref.namespace}/${ref.name} is invalid: ${parsed.error.issues[0]?.message ?? 'unknown problem'}`;
      return { query: { ok: false, error: text }, target: { address: '' } };
    }
    const template = parsed.data.spec;
    const provider = template.provider;
    if (provider.type && provider.type !== 'prometheus') {
      const text = `MetricTemplate ${ref.namespace}/${ref.name} uses provider ${provider.type}; Cutover queries Prometheus only: set spec.provider.type to prometheus`;
      return { query: { ok: false, error: text }, target: { address: '' } };
    }
    const target: Omit<PrometheusQueryInput, 'query'> = {
      address: provider.address ?? input.prometheusUrl ?? deps.defaultPrometheusUrl,
      // Go's http.Header holds lists of values; one header line carries them comma-joined.
      headers: provider.headers
        ? Object.fromEntries(Object.entries(provider.headers).map(([k, v]) => [k, v.join(', ')]))
        : undefined,
      insecureSkipVerify: provider.insecureSkipVerify,
    };
    const secretName = provider.secretRef?.name;
    if (secretName) {
      let secret: k8s.V1Secret;
      try {
        secret = await core.readNamespacedSecret({ name: secretName, namespace: ref.namespace });
      } catch (error) {
        if (isNotFound(error)) {
          const text = `Secret ${ref.namespace}/${secretName} of MetricTemplate ${ref.namespace}/${ref.name} not found: create it, or fix spec.provider.secretRef of the template`;
          return { query: { ok: false, error: text }, target: { address: '' } };
        }
        throw error;
      }
      const data = secretText(secret);
      if (data.token) target.bearerToken = data.token;
      else if (data.username && data.password)
        target.basicAuth = { username: data.username, password: data.password };
      if (data.address) target.address = data.address;
    }
    const query = renderQueryTemplate(template.query ?? '', {
      name: input.canary.name,
      namespace: input.canary.namespace,
      target: input.canary.target,
      service: input.canary.service,
      interval: metric.interval,
      variables: metric.templateVariables,
    });
    return { query, target };
  }

  async function checkMetric(input: CheckMetricInput): Promise<CheckMetricResult> {
    const { metric } = input;
    const model = { ...input.canary, interval: metric.interval };
    const defaultTarget = { address: input.prometheusUrl ?? deps.defaultPrometheusUrl };
    const { query, target }: { query: RenderedQuery; target: Omit<PrometheusQueryInput, 'query'> } =
      metric.source === 'template'
        ? await templateQuery(input, metric)
        : metric.source === 'builtin'
          ? { query: builtinQuery(metric.builtin, model), target: defaultTarget }
          : { query: renderQueryTemplate(metric.query, model), target: defaultTarget };
    if (!query.ok) return { name: metric.name, passed: false, message: query.error };
    const policy = deps.outboundPolicy ? { policy: deps.outboundPolicy } : {};
    const result = await queryPrometheus({ ...target, ...policy, query: query.query }).catch(
      (error: unknown) => {
        // Unreachable Prometheus: Temporal retries; after the last attempt the workflow counts a failed check.
        // The address may come from a Secret with user:password in it, and goes into the history: redact.
        const secrets = [target.bearerToken, target.basicAuth?.password];
        const reason = quoteForMessage(error instanceof Error ? error.message : String(error), {
          secrets,
          max: 512,
        });
        throw ApplicationFailure.retryable(
          `Prometheus ${redactUrl(target.address)} unavailable: ${reason}`,
          'PrometheusUnavailable',
        );
      },
    );
    // evaluateMetricCheck converts builtin values (request-duration: seconds → ms) itself.
    const verdict = evaluateMetricCheck({
      name: metric.name,
      canary: input.canary,
      source: metric.source,
      result,
      thresholdRange: metric.thresholdRange,
      noDataPolicy: input.noDataPolicy,
    });
    return { name: metric.name, query: query.query, ...verdict };
  }

  return { checkMetric };
}
