// Can Cutover run this Canary? Answers with every problem at once, each naming the field, what is
// wrong and how to fix it, because the answer ends up in a status condition and a Warning event that
// a person reads in `kubectl describe`. Never throws: the input is whatever someone applied.
//
// The result is a `ValidCanary`: the parsed object plus everything a rollout needs already resolved
// (durations in ms, defaults applied, webhook types normalised, deprecated fields translated), so
// the workflow never re-interprets the spec.
import { parseDuration } from './duration.ts';
import { apexServiceName } from './naming.ts';
import { describeIssue, notAnObject, type Problem } from './problems.ts';
import {
  canaryDefaults,
  canarySchema,
  type Canary,
  type CanaryAlert,
  type CanaryAnalysis,
  type CanaryMetric,
  type CanaryWebhook,
} from './spec.ts';

export interface ValidateOptions {
  /** The shortest `analysis.interval` accepted, as a Go duration. Flagger's is 10s; tests use less. */
  minInterval?: string;
  /** The namespace of a Canary whose metadata has none (a file not yet applied). */
  defaultNamespace?: string;
}

export const builtinMetricNames = ['request-success-rate', 'request-duration'] as const;
export type BuiltinMetricName = (typeof builtinMetricNames)[number];

export const webhookTypes = [
  'confirm-rollout',
  'pre-rollout',
  'rollout',
  'confirm-promotion',
  'post-rollout',
  'rollback',
  'event',
] as const;
export type WebhookType = (typeof webhookTypes)[number];

export const alertSeverities = ['info', 'warn', 'error'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];

export interface ResolvedThresholdRange {
  min?: number;
  max?: number;
}

interface MetricCheckBase {
  name: string;
  /** The metric's window as written ("1m"): it is what `{{ interval }}` renders to in queries. */
  interval: string;
  intervalMs: number;
  /** For request-duration: milliseconds. */
  thresholdRange: ResolvedThresholdRange;
}

/** A metric check, in the order Flagger decides what it is: templateRef, then inline query, then builtin. */
export type MetricCheck =
  | (MetricCheckBase & {
      source: 'template';
      templateRef: { name: string; namespace: string };
      templateVariables: Record<string, string>;
    })
  | (MetricCheckBase & { source: 'query'; query: string })
  | (MetricCheckBase & { source: 'builtin'; builtin: BuiltinMetricName });

export interface ResolvedWebhook {
  name: string;
  /** Flagger's empty type is `rollout`. */
  type: WebhookType;
  url: string;
  timeoutMs: number;
  retries: number;
  metadata: Record<string, string>;
  disableTLS: boolean;
  muteAlert: boolean;
}

export interface ResolvedAlert {
  name: string;
  severity: AlertSeverity;
  providerRef: { name: string; namespace: string };
}

export interface ResolvedAnalysis {
  intervalMs: number;
  iterations: number;
  threshold: number;
  /** Percent of the green Deployment's pods that must be available before analysis. */
  canaryReadyThreshold: number;
  primaryReadyThreshold: number;
  metrics: MetricCheck[];
  webhooks: ResolvedWebhook[];
  alerts: ResolvedAlert[];
}

export interface ValidCanary {
  name: string;
  namespace: string;
  /** The object as parsed (defaults filled, unknown fields kept). */
  object: Canary;
  target: { apiVersion: string; kind: 'Deployment'; name: string };
  autoscaler?: { apiVersion: string; kind: 'HorizontalPodAutoscaler'; name: string };
  service: {
    /** The apex Service name: `service.name`, or the target's name. */
    name: string;
    port: number;
    portName: string;
    /** Defaults to `port`. */
    targetPort: number | string;
    portDiscovery: boolean;
  };
  skipAnalysis: boolean;
  suspend: boolean;
  revertOnDeletion: boolean;
  progressDeadlineSeconds: number;
  metricsServer?: string;
  analysis: ResolvedAnalysis;
}

export type { Problem } from './problems.ts';
export { formatProblems } from './problems.ts';

export type CanaryValidation =
  | { ok: true; canary: ValidCanary; warnings: Problem[] }
  | { ok: false; problems: Problem[]; warnings: Problem[] };

const DEFAULT_MIN_INTERVAL = '10s';

export function validateCanary(obj: unknown, options: ValidateOptions = {}): CanaryValidation {
  const parsed = canarySchema.safeParse(obj);
  if (!parsed.success) {
    const rootProblem = notAnObject(obj);
    const problems = rootProblem
      ? [rootProblem]
      : parsed.error.issues.map((issue) => describeIssue(issue, obj));
    return { ok: false, problems, warnings: [] };
  }
  const check = new Checker();
  const canary = resolveCanary(parsed.data, options, check);
  if (check.problems.length > 0 || canary === undefined) {
    return { ok: false, problems: check.problems, warnings: check.warnings };
  }
  return { ok: true, canary, warnings: check.warnings };
}

/**
 * Metrics written like a Canary's `analysis.metrics`, resolved the same way: a RolloutPolicy's
 * post-promotion metrics have the Canary's shape and rules, so they get the Canary's sentences.
 */
export function resolveMetricChecks(
  metrics: readonly CanaryMetric[],
  path: string,
  namespace: string,
): { metrics: MetricCheck[]; problems: Problem[]; warnings: Problem[] } {
  const check = new Checker();
  const resolved = metrics.flatMap((m, i) => resolveMetric(m, `${path}[${i}]`, namespace, check) ?? []);
  return { metrics: resolved, problems: check.problems, warnings: check.warnings };
}

/** An analysis interval in ms, held to the same floor (`minInterval`) as a Canary's `analysis.interval`. */
export function resolveAnalysisInterval(
  interval: string,
  path: string,
  options: Pick<ValidateOptions, 'minInterval'> = {},
): { ms?: number; problems: Problem[] } {
  const check = new Checker();
  const ms = resolveInterval(interval, path, options, check);
  return { ...(ms !== undefined ? { ms } : {}), problems: check.problems };
}

// ---- the rules ----

class Checker {
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];
  problem(path: string, message: string, fix: string): void {
    this.problems.push({ path, message, fix });
  }
  warn(path: string, message: string, fix: string): void {
    this.warnings.push({ path, message, fix });
  }
}

function resolveCanary(c: Canary, options: ValidateOptions, check: Checker): ValidCanary | undefined {
  const spec = c.spec;
  if (c.kind !== undefined && c.kind !== 'Canary') {
    check.problem('kind', `kind is "${c.kind}", not Canary.`, 'Set kind: Canary.');
  }
  if (c.apiVersion !== undefined && c.apiVersion !== 'flagger.app/v1beta1') {
    check.problem(
      'apiVersion',
      `apiVersion is "${c.apiVersion}", which Cutover does not serve.`,
      'Set apiVersion: flagger.app/v1beta1.',
    );
  }
  const name = c.metadata.name ?? '';
  if (name === '') check.problem('metadata.name', 'metadata.name is missing.', 'Give the Canary a name.');
  const namespace = c.metadata.namespace || options.defaultNamespace || 'default';

  checkProvider(spec.provider, check);
  const target = resolveTarget(spec.targetRef, check);
  const autoscaler = resolveAutoscaler(spec.autoscalerRef, check);
  const service = resolveService(spec.service, target?.name ?? '', check);

  if (!Number.isInteger(spec.progressDeadlineSeconds) || spec.progressDeadlineSeconds <= 0) {
    check.problem(
      'spec.progressDeadlineSeconds',
      `spec.progressDeadlineSeconds is ${spec.progressDeadlineSeconds}, but it must be a whole number of seconds above 0.`,
      `Set it to how long the Deployment may take to become ready (Flagger's default is ${canaryDefaults.progressDeadlineSeconds}), or remove it.`,
    );
  }
  if (spec.metricsServer !== undefined && !isHttpUrl(spec.metricsServer)) {
    check.problem(
      'spec.metricsServer',
      `spec.metricsServer "${spec.metricsServer}" is not an http(s) URL.`,
      'Set it to the Prometheus address, e.g. http://prometheus.monitoring:9090, or remove it to use the default.',
    );
  }

  let analysis: ResolvedAnalysis | undefined;
  if (spec.analysis !== undefined) {
    analysis = resolveAnalysis(spec.analysis, 'spec.analysis', namespace, options, check);
  } else if (spec.canaryAnalysis !== undefined) {
    check.warn(
      'spec.canaryAnalysis',
      'spec.canaryAnalysis is the deprecated name of spec.analysis; Cutover reads it as Flagger does.',
      'Rename it to analysis.',
    );
    analysis = resolveAnalysis(spec.canaryAnalysis, 'spec.canaryAnalysis', namespace, options, check);
  } else {
    check.problem(
      'spec.analysis',
      'spec.analysis is missing, so Cutover does not know how many checks to run or how often.',
      'Add analysis with interval (e.g. 1m), iterations (e.g. 10) and threshold (e.g. 2).',
    );
  }

  if (!target || !service || !analysis || name === '') return undefined;
  return {
    name,
    namespace,
    object: c,
    target,
    ...(autoscaler ? { autoscaler } : {}),
    service,
    skipAnalysis: spec.skipAnalysis,
    suspend: spec.suspend,
    revertOnDeletion: spec.revertOnDeletion,
    progressDeadlineSeconds: spec.progressDeadlineSeconds,
    ...(spec.metricsServer !== undefined ? { metricsServer: spec.metricsServer } : {}),
    analysis,
  };
}

function checkProvider(provider: string | undefined, check: Checker): void {
  if (provider === 'kubernetes') return;
  if (provider === undefined || provider === '') {
    check.problem(
      'spec.provider',
      'spec.provider is not set; Flagger would fall back to its global mesh provider, and Cutover has only one.',
      'Set spec.provider: kubernetes.',
    );
    return;
  }
  check.problem(
    'spec.provider',
    `spec.provider is "${provider}", but Cutover only does blue/green with the kubernetes provider (ClusterIP Services, no mesh or ingress).`,
    'Set spec.provider: kubernetes, or leave this Canary to Flagger.',
  );
}

function resolveTarget(ref: Canary['spec']['targetRef'], check: Checker): ValidCanary['target'] | undefined {
  if (ref === undefined) {
    check.problem(
      'spec.targetRef',
      'spec.targetRef is missing, so there is no Deployment to roll out.',
      'Add targetRef: {apiVersion: apps/v1, kind: Deployment, name: <your Deployment>}.',
    );
    return undefined;
  }
  let ok = true;
  if (ref.kind !== 'Deployment') {
    ok = false;
    check.problem(
      'spec.targetRef.kind',
      ref.kind
        ? `spec.targetRef.kind is "${ref.kind}", but Cutover rolls out Deployments only.`
        : 'spec.targetRef.kind is missing.',
      'Set kind: Deployment (DaemonSets and Services are not supported).',
    );
  }
  const apiVersion = ref.apiVersion ?? 'apps/v1';
  if (apiVersion !== 'apps/v1') {
    ok = false;
    check.problem(
      'spec.targetRef.apiVersion',
      `spec.targetRef.apiVersion is "${apiVersion}", but Deployments are served as apps/v1.`,
      'Set apiVersion: apps/v1.',
    );
  }
  if (ref.name === '') {
    ok = false;
    check.problem(
      'spec.targetRef.name',
      'spec.targetRef.name is empty.',
      'Set it to the Deployment to roll out.',
    );
  }
  return ok ? { apiVersion, kind: 'Deployment', name: ref.name } : undefined;
}

function resolveAutoscaler(
  ref: Canary['spec']['autoscalerRef'],
  check: Checker,
): ValidCanary['autoscaler'] | undefined {
  if (ref === undefined) return undefined;
  if (ref.kind !== 'HorizontalPodAutoscaler') {
    check.problem(
      'spec.autoscalerRef.kind',
      ref.kind
        ? `spec.autoscalerRef.kind is "${ref.kind}", but Cutover only copies HorizontalPodAutoscalers for the primary.`
        : 'spec.autoscalerRef.kind is missing.',
      'Set kind: HorizontalPodAutoscaler, or remove autoscalerRef.',
    );
    return undefined;
  }
  if (ref.name === '') {
    check.problem(
      'spec.autoscalerRef.name',
      'spec.autoscalerRef.name is empty.',
      'Set it to the target\u2019s HPA.',
    );
    return undefined;
  }
  return { apiVersion: ref.apiVersion ?? 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: ref.name };
}

function resolveService(
  service: Canary['spec']['service'],
  targetName: string,
  check: Checker,
): ValidCanary['service'] | undefined {
  const port = service?.port;
  if (port === undefined) {
    check.problem(
      'spec.service.port',
      'spec.service.port is missing, so Cutover cannot create the apex, primary and canary Services.',
      'Add service: {port: <the port your app listens on>}.',
    );
    return undefined;
  }
  let ok = isPort(port);
  if (!ok) {
    check.problem(
      'spec.service.port',
      `spec.service.port is ${port}, which is not a port number.`,
      'Use a whole number from 1 to 65535.',
    );
  }
  const targetPort = service?.targetPort ?? port;
  if (typeof targetPort === 'number' ? !isPort(targetPort) : targetPort === '') {
    ok = false;
    check.problem(
      'spec.service.targetPort',
      `spec.service.targetPort is ${JSON.stringify(targetPort)}, which is neither a port number nor a port name.`,
      'Use the container port number (1 to 65535) or its name, or remove it to use service.port.',
    );
  }
  if (!ok || service === undefined) return undefined;
  return {
    name: apexServiceName(targetName, service.name || undefined),
    port,
    portName: service.portName || canaryDefaults.portName,
    targetPort,
    portDiscovery: service.portDiscovery,
  };
}

function resolveAnalysis(
  a: CanaryAnalysis,
  path: string,
  namespace: string,
  options: ValidateOptions,
  check: Checker,
): ResolvedAnalysis | undefined {
  const problemsBefore = check.problems.length;
  const intervalMs = resolveInterval(a.interval, `${path}.interval`, options, check);

  if (a.iterations === undefined) {
    check.problem(
      `${path}.iterations`,
      `${path}.iterations is missing; blue/green runs a fixed number of checks before promoting.`,
      'Set iterations to the number of good checks needed (e.g. 10).',
    );
  } else if (!isPositiveInteger(a.iterations)) {
    check.problem(
      `${path}.iterations`,
      `${path}.iterations is ${a.iterations}, but it must be a whole number of at least 1.`,
      'Set iterations to the number of good checks needed (e.g. 10).',
    );
  }
  if (!isPositiveInteger(a.threshold)) {
    check.problem(
      `${path}.threshold`,
      `${path}.threshold is ${a.threshold}, but it must be a whole number of at least 1 (the failed checks that roll back).`,
      'Set threshold to 1 to roll back on the first failed check, or higher to tolerate some.',
    );
  }
  checkNoTrafficShifting(a, path, check);
  if (a.mirror) {
    check.warn(
      `${path}.mirror`,
      `${path}.mirror is ignored: the kubernetes provider cannot mirror traffic (neither can Flagger's).`,
      'Remove mirror.',
    );
  }
  if ('sessionAffinity' in a && a.sessionAffinity !== undefined) {
    check.warn(
      `${path}.sessionAffinity`,
      `${path}.sessionAffinity is ignored: blue/green never splits traffic, so there is no session to keep.`,
      'Remove sessionAffinity.',
    );
  }
  checkPercent(a.canaryReadyThreshold, `${path}.canaryReadyThreshold`, check);
  checkPercent(a.primaryReadyThreshold, `${path}.primaryReadyThreshold`, check);

  const metrics = a.metrics.flatMap(
    (m, i) => resolveMetric(m, `${path}.metrics[${i}]`, namespace, check) ?? [],
  );
  const webhooks = a.webhooks.flatMap((w, i) => resolveWebhook(w, `${path}.webhooks[${i}]`, check) ?? []);
  const alerts = a.alerts.flatMap(
    (al, i) => resolveAlert(al, `${path}.alerts[${i}]`, namespace, check) ?? [],
  );

  if (check.problems.length > problemsBefore || intervalMs === undefined || a.iterations === undefined) {
    return undefined;
  }
  return {
    intervalMs,
    iterations: a.iterations,
    threshold: a.threshold,
    canaryReadyThreshold: a.canaryReadyThreshold,
    primaryReadyThreshold: a.primaryReadyThreshold,
    metrics,
    webhooks,
    alerts,
  };
}

function resolveInterval(
  interval: string,
  path: string,
  options: ValidateOptions,
  check: Checker,
): number | undefined {
  const min = parseDuration(options.minInterval ?? DEFAULT_MIN_INTERVAL);
  if (!min.ok) {
    check.problem(
      'options.minInterval',
      `Cutover's minimum interval is misconfigured: ${min.reason}.`,
      'Fix the worker setting.',
    );
    return undefined;
  }
  const ms = positiveDuration(interval, path, 'how often to check, e.g. "1m"', check);
  if (ms === undefined) return undefined;
  if (ms < min.ms) {
    check.problem(
      path,
      `${path} is "${interval}", shorter than the minimum of ${options.minInterval ?? DEFAULT_MIN_INTERVAL} (Flagger quietly raises it to 10s; Cutover says so).`,
      `Set it to ${options.minInterval ?? DEFAULT_MIN_INTERVAL} or more.`,
    );
    return undefined;
  }
  return ms;
}

function checkNoTrafficShifting(a: CanaryAnalysis, path: string, check: Checker): void {
  const fix =
    'Remove it and set iterations to the number of checks to run before switching all traffic at once.';
  const why = 'but Cutover does blue/green only and never shifts traffic by weight';
  for (const field of ['stepWeight', 'maxWeight', 'stepWeightPromotion'] as const) {
    const value = a[field];
    if (value !== undefined && value !== 0) {
      check.problem(`${path}.${field}`, `${path}.${field} is set (${value}), ${why}.`, fix);
    }
  }
  if (a.stepWeights !== undefined && a.stepWeights.length > 0) {
    check.problem(
      `${path}.stepWeights`,
      `${path}.stepWeights is set (${a.stepWeights.join(', ')}), ${why}.`,
      fix,
    );
  }
  if (a.match !== undefined && a.match.length > 0) {
    check.problem(
      `${path}.match`,
      `${path}.match asks for A/B testing, which needs a mesh or ingress to route on headers; the kubernetes provider cannot.`,
      'Remove match to run blue/green, or leave this Canary to Flagger with a mesh provider.',
    );
  }
}

function checkPercent(value: number, path: string, check: Checker): void {
  if (!(value > 0 && value <= 100)) {
    check.problem(
      path,
      `${path} is ${value}, but it is a percentage of pods that must be available, above 0 and at most 100.`,
      'Set it between 1 and 100, or remove it for 100.',
    );
  }
}

function resolveMetric(
  m: CanaryMetric,
  path: string,
  namespace: string,
  check: Checker,
): MetricCheck | undefined {
  const before = check.problems.length;
  if (m.name === '') check.problem(`${path}.name`, `${path}.name is empty.`, 'Name the metric.');
  const intervalMs = positiveDuration(m.interval, `${path}.interval`, 'the query window, e.g. "1m"', check);

  let source: 'template' | 'query' | 'builtin';
  if (m.templateRef !== undefined) {
    source = 'template';
    if (m.templateRef.name === '') {
      check.problem(
        `${path}.templateRef.name`,
        `${path}.templateRef.name is empty.`,
        'Name the MetricTemplate.',
      );
    }
  } else if (m.query !== undefined && m.query !== '') {
    source = 'query';
    check.warn(
      `${path}.query`,
      `${path}.query is an inline query, deprecated in Flagger; Cutover runs it against spec.metricsServer or the default Prometheus.`,
      'Move the query into a MetricTemplate and reference it with templateRef.',
    );
  } else {
    source = 'builtin';
    if (!isBuiltinMetric(m.name)) {
      check.problem(
        `${path}.name`,
        `${path}.name is "${m.name}", which is not a builtin metric (${builtinMetricNames.join(', ')}) and has no templateRef.`,
        'Use a builtin name, or add templateRef pointing at a MetricTemplate.',
      );
    }
  }
  const thresholdRange = resolveThresholdRange(m, path, source, check);
  if (check.problems.length > before || intervalMs === undefined || thresholdRange === undefined) {
    return undefined;
  }
  const base = { name: m.name, interval: m.interval, intervalMs, thresholdRange };
  if (source === 'template' && m.templateRef) {
    return {
      ...base,
      source,
      templateRef: { name: m.templateRef.name, namespace: m.templateRef.namespace || namespace },
      templateVariables: { ...m.templateVariables },
    };
  }
  if (source === 'query' && m.query !== undefined) return { ...base, source, query: m.query };
  if (isBuiltinMetric(m.name)) return { ...base, source: 'builtin', builtin: m.name };
  return undefined;
}

function resolveThresholdRange(
  m: CanaryMetric,
  path: string,
  source: 'template' | 'query' | 'builtin',
  check: Checker,
): ResolvedThresholdRange | undefined {
  const range = m.thresholdRange;
  if (range !== undefined) {
    if (range.min === undefined && range.max === undefined) {
      check.problem(
        `${path}.thresholdRange`,
        `${path}.thresholdRange has neither min nor max, so every value would pass.`,
        'Set min, max or both.',
      );
      return undefined;
    }
    if (range.min !== undefined && range.max !== undefined && range.min > range.max) {
      check.problem(
        `${path}.thresholdRange`,
        `${path}.thresholdRange has min ${range.min} above max ${range.max}, so every value would fail.`,
        'Swap them or fix one.',
      );
      return undefined;
    }
    return {
      ...(range.min !== undefined ? { min: range.min } : {}),
      ...(range.max !== undefined ? { max: range.max } : {}),
    };
  }
  if (m.threshold !== undefined) {
    // Flagger's deprecated meaning: a floor for the success rate, a ceiling for everything else.
    const asMin = source === 'builtin' && m.name === 'request-success-rate';
    check.warn(
      `${path}.threshold`,
      `${path}.threshold is deprecated; Cutover reads it as Flagger does, as the ${asMin ? 'minimum' : 'maximum'} accepted.`,
      `Write thresholdRange: {${asMin ? 'min' : 'max'}: ${m.threshold}} instead.`,
    );
    return asMin ? { min: m.threshold } : { max: m.threshold };
  }
  check.problem(
    `${path}.thresholdRange`,
    `${path}.thresholdRange is missing, so there is nothing to judge the metric against.`,
    m.name === 'request-success-rate'
      ? 'Add thresholdRange: {min: 99} (percent of requests that succeed).'
      : m.name === 'request-duration'
        ? 'Add thresholdRange: {max: 500} (P99 latency in milliseconds).'
        : 'Add thresholdRange with min, max or both.',
  );
  return undefined;
}

function resolveWebhook(w: CanaryWebhook, path: string, check: Checker): ResolvedWebhook | undefined {
  const before = check.problems.length;
  if (w.name === '') check.problem(`${path}.name`, `${path}.name is empty.`, 'Name the webhook.');
  const type = w.type === '' ? 'rollout' : w.type;
  if (type === 'confirm-traffic-increase') {
    // Valid in Flagger's CRD, but only ever called between traffic-weight steps, which blue/green has none of.
    check.warn(
      `${path}.type`,
      `${path}.type confirm-traffic-increase is never called: blue/green has no traffic steps.`,
      'Use confirm-promotion to gate the switch instead.',
    );
  } else if (!isWebhookType(type)) {
    check.problem(
      `${path}.type`,
      `${path}.type is "${w.type}", which is not a webhook type.`,
      `Use one of ${webhookTypes.join(', ')}.`,
    );
  }
  if (!isHttpUrl(w.url)) {
    check.problem(
      `${path}.url`,
      `${path}.url "${w.url}" is not an http(s) URL.`,
      'Write the full address, e.g. http://loadtester.test/.',
    );
  }
  const timeoutMs = positiveDuration(
    w.timeout,
    `${path}.timeout`,
    'how long to wait for a reply, e.g. "30s"',
    check,
  );
  if (!Number.isInteger(w.retries) || w.retries < 0) {
    check.problem(
      `${path}.retries`,
      `${path}.retries is ${w.retries}, but it must be a whole number, 0 or more.`,
      'Set retries to 0 or more.',
    );
  }
  if (check.problems.length > before || timeoutMs === undefined || !isWebhookType(type)) return undefined;
  return {
    name: w.name,
    type,
    url: w.url,
    timeoutMs,
    retries: w.retries,
    metadata: { ...w.metadata },
    disableTLS: w.disableTLS,
    muteAlert: w.muteAlert,
  };
}

function resolveAlert(
  al: CanaryAlert,
  path: string,
  namespace: string,
  check: Checker,
): ResolvedAlert | undefined {
  const before = check.problems.length;
  const severity = al.severity === '' ? 'info' : al.severity;
  if (!isAlertSeverity(severity)) {
    check.problem(
      `${path}.severity`,
      `${path}.severity is "${al.severity}".`,
      `Use one of ${alertSeverities.join(', ')}.`,
    );
  }
  if (al.providerRef.name === '') {
    check.problem(
      `${path}.providerRef.name`,
      `${path}.providerRef.name is empty.`,
      'Name the AlertProvider.',
    );
  }
  if (check.problems.length > before || !isAlertSeverity(severity)) return undefined;
  return {
    name: al.name,
    severity,
    providerRef: { name: al.providerRef.name, namespace: al.providerRef.namespace || namespace },
  };
}

function positiveDuration(text: string, path: string, what: string, check: Checker): number | undefined {
  const parsed = parseDuration(text);
  if (!parsed.ok) {
    check.problem(path, `${path} is not a duration: ${parsed.reason}.`, `Set it to ${what}.`);
    return undefined;
  }
  if (parsed.ms <= 0) {
    check.problem(path, `${path} is "${text}", but it must be longer than zero.`, `Set it to ${what}.`);
    return undefined;
  }
  return parsed.ms;
}

// ---- small predicates ----

function isPositiveInteger(value: number): boolean {
  return Number.isInteger(value) && value >= 1;
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}

// A URL check without `URL`, which is not guaranteed inside the workflow sandbox.
function isHttpUrl(text: string): boolean {
  return /^https?:\/\/[^\s/?#]+[^\s]*$/i.test(text);
}

function isBuiltinMetric(name: string): name is BuiltinMetricName {
  return (builtinMetricNames as readonly string[]).includes(name);
}

function isWebhookType(type: string): type is WebhookType {
  return (webhookTypes as readonly string[]).includes(type);
}

function isAlertSeverity(severity: string): severity is AlertSeverity {
  return (alertSeverities as readonly string[]).includes(severity);
}
