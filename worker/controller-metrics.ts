// The controller metrics Flagger exports, under Flagger's names, labels and help strings, so that the
// Grafana dashboards and alerts people already have for Flagger keep working against Cutover. Plus the
// process metrics (`process_*`, `nodejs_*`) on the same registry.
//
// Where Cutover's meaning differs from Flagger's, it is said at the metric.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CanaryPhase } from '../canary/status.ts';

/**
 * The Canary a metric is about. Flagger labels its per-canary series with the *target's* name
 * (`spec.targetRef.name`), not the Canary's; pass `targetName` and Cutover does the same. The two are
 * almost always equal.
 */
export interface CanaryRef {
  name: string;
  namespace: string;
  targetName?: string;
}

export type RolloutOutcome = 'promoted' | 'rolled-back' | 'failed';

/** The unit a metric check's value is in, when not the query's own (see `MetricCheckVerdict.valueUnit`). */
export type MetricValueUnit = 'ms';

export interface ControllerMetricsOptions {
  /** Cutover's version, shown as `flagger_info{version}`. */
  version: string;
  /** Default true: also export `process_*` and `nodejs_*` metrics. */
  processMetrics?: boolean;
}

export interface ControllerMetrics {
  registry: Registry;
  /** `flagger_info{version, mesh_provider} 1`; set at creation, call again to change the labels. */
  setInfo(info?: { version?: string; meshProvider?: string }): void;
  /** `flagger_canary_status` from the phase, and `flagger_canary_weight` as the phase implies it. */
  recordCanaryPhase(canary: CanaryRef, phase: CanaryPhase): void;
  /** `flagger_canary_weight` for `<target>` (= canaryWeight) and `<target>-primary` (= 100 - canaryWeight). */
  setCanaryWeight(canary: CanaryRef, canaryWeight: number): void;
  /** `flagger_canary_total`, replacing the whole set: a namespace left out loses its series. */
  setCanaryTotals(countByNamespace: Record<string, number>): void;
  observeRolloutDuration(canary: CanaryRef, seconds: number): void;
  /**
   * `flagger_canary_metric_analysis`: the last value of one metric check (`analysis.metrics[].name`), in
   * Flagger's unit. Pass the verdict's `valueUnit`: a value in `ms` (builtin request-duration, as the
   * check compares it) is exported in seconds, as Flagger does (0.004, not 4).
   */
  setMetricAnalysis(canary: CanaryRef, metric: string, value: number, unit?: MetricValueUnit): void;
  /** One of the `_successes_total`/`_failures_total` counters; `analysisSkipped` for `skipAnalysis: true`. */
  countRolloutEnd(canary: CanaryRef, outcome: RolloutOutcome, options?: { analysisSkipped?: boolean }): void;
  /** Drops a deleted Canary's gauges (counters and the histogram stay, as in Flagger). */
  forgetCanary(canary: CanaryRef): void;
}

/** Flagger's `deployment_strategy` label value for blue/green; Cutover runs nothing else. */
export const deploymentStrategy = 'blue-green';
export const meshProvider = 'kubernetes';

/**
 * Flagger's rule (pkg/metrics/recorder.go `SetStatus`): 0 while Progressing, 2 when Failed, 1 for every
 * other phase (Initialized, Succeeded, and also Waiting, Promoting, Finalising…).
 */
export function canaryStatusValue(phase: CanaryPhase): 0 | 1 | 2 {
  if (phase === 'Progressing') return 0;
  if (phase === 'Failed') return 2;
  return 1;
}

/**
 * The green (canary) Deployment's share of traffic as Cutover reports it: 100 from Promoting until the
 * rollout ends (the promoted revision is what serves from then on, as Flagger's blue/green with a mesh
 * reports it while it routes all traffic to the canary), 0 otherwise: during analysis green only gets
 * the test traffic sent to `<target>-canary`, and once Succeeded the primary runs the new revision.
 * (Flagger itself, with provider `kubernetes`, reports 0 for both series: its router has no weights.)
 */
export function canaryWeightForPhase(phase: CanaryPhase): 0 | 100 {
  return phase === 'Promoting' || phase === 'Finalising' ? 100 : 0;
}

// Flagger's histogram uses Prometheus' default buckets (5ms-10s), sized for one reconcile pass. Cutover
// observes a whole rollout (minutes), so the buckets continue up to two hours.
const durationBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200,
];

export function createControllerMetrics(options: ControllerMetricsOptions): ControllerMetrics {
  const registry = new Registry();
  const registers = [registry];

  const info = new Gauge({
    name: 'flagger_info',
    help: 'Flagger version and mesh provider information',
    labelNames: ['version', 'mesh_provider'] as const,
    registers,
  });
  // Flagger: seconds of one analysis pass. Cutover: seconds from the start of a rollout to its end.
  const duration = new Histogram({
    name: 'flagger_canary_duration_seconds',
    help: 'Seconds spent performing canary analysis.',
    labelNames: ['name', 'namespace'] as const,
    buckets: durationBuckets,
    registers,
  });
  const total = new Gauge({
    name: 'flagger_canary_total',
    help: 'Total number of canary object',
    labelNames: ['namespace'] as const,
    registers,
  });
  const status = new Gauge({
    name: 'flagger_canary_status',
    help: 'Last canary analysis result',
    labelNames: ['name', 'namespace'] as const,
    registers,
  });
  const weight = new Gauge({
    name: 'flagger_canary_weight',
    help: 'The virtual service destination weight current value',
    labelNames: ['workload', 'namespace'] as const,
    registers,
  });
  const analysis = new Gauge({
    name: 'flagger_canary_metric_analysis',
    help: 'Last canary analysis result per metric',
    labelNames: ['name', 'namespace', 'metric'] as const,
    registers,
  });
  const outcomeLabels = ['name', 'namespace', 'deployment_strategy', 'analysis_status'] as const;
  const successes = new Counter({
    name: 'flagger_canary_successes_total',
    help: 'Total number of canary successes',
    labelNames: outcomeLabels,
    registers,
  });
  const failures = new Counter({
    name: 'flagger_canary_failures_total',
    help: 'Total number of canary failures',
    labelNames: outcomeLabels,
    registers,
  });

  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  let currentInfo = { version: options.version, meshProvider };
  const setInfo: ControllerMetrics['setInfo'] = (next = {}) => {
    currentInfo = { ...currentInfo, ...next };
    info.reset();
    info.set({ version: currentInfo.version, mesh_provider: currentInfo.meshProvider }, 1);
  };
  setInfo();

  const labelName = (canary: CanaryRef) => canary.targetName ?? canary.name;
  const canaryKey = (canary: CanaryRef) => `${canary.namespace}/${labelName(canary)}`;
  const analysedMetrics = new Map<string, Set<string>>();
  const setCanaryWeight: ControllerMetrics['setCanaryWeight'] = (canary, canaryWeight) => {
    const target = labelName(canary);
    weight.set({ workload: `${target}-primary`, namespace: canary.namespace }, 100 - canaryWeight);
    weight.set({ workload: target, namespace: canary.namespace }, canaryWeight);
  };

  return {
    registry,
    setInfo,
    recordCanaryPhase(canary, phase) {
      status.set({ name: labelName(canary), namespace: canary.namespace }, canaryStatusValue(phase));
      setCanaryWeight(canary, canaryWeightForPhase(phase));
    },
    setCanaryWeight,
    setCanaryTotals(countByNamespace) {
      total.reset();
      for (const [namespace, count] of Object.entries(countByNamespace)) total.set({ namespace }, count);
    },
    observeRolloutDuration(canary, seconds) {
      duration.observe({ name: labelName(canary), namespace: canary.namespace }, seconds);
    },
    setMetricAnalysis(canary, metric, value, unit) {
      const exported = unit === 'ms' ? value / 1000 : value;
      analysis.set({ name: labelName(canary), namespace: canary.namespace, metric }, exported);
      const key = canaryKey(canary);
      const metrics = analysedMetrics.get(key) ?? new Set<string>();
      analysedMetrics.set(key, metrics.add(metric));
    },
    countRolloutEnd(canary, outcome, countOptions = {}) {
      const labels = {
        name: labelName(canary),
        namespace: canary.namespace,
        deployment_strategy: deploymentStrategy,
        analysis_status: countOptions.analysisSkipped === true ? 'skipped' : 'completed',
      };
      if (outcome === 'promoted') successes.inc(labels);
      else failures.inc(labels);
    },
    forgetCanary(canary) {
      const target = labelName(canary);
      status.remove({ name: target, namespace: canary.namespace });
      weight.remove({ workload: target, namespace: canary.namespace });
      weight.remove({ workload: `${target}-primary`, namespace: canary.namespace });
      // prom-client removes by exact label set only, hence the record of which metrics were set.
      const key = canaryKey(canary);
      for (const metric of analysedMetrics.get(key) ?? []) {
        analysis.remove({ name: target, namespace: canary.namespace, metric });
      }
      analysedMetrics.delete(key);
    },
  };
}
