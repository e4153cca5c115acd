// `cutover worker`: one process with the Temporal worker (rollout workflows and their activities), the
// revision watcher, and /metrics + /healthz. Thin: everything it runs lives elsewhere.
import { CustomObjectsApi, VersionApi } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { createActivities } from '../activities/index.ts';
import type { CheckMetricInput } from '../activities/metric-checks.ts';
import { formatDuration } from '../canary/duration.ts';
import { isCanaryPhase, isRolloutInProgress } from '../canary/status.ts';
import { loadKubeConfig, loadWorkerConfig, workerUsage } from './config.ts';
import type { WorkerConfig } from './config.ts';
import { createControllerMetrics } from './controller-metrics.ts';
import { DependencyReachability, canaryLister } from './dependency-reachability.ts';
import { crashRecoveryWorkerOptions, workflowTaskTimeoutInterceptor } from './crash-recovery.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import { DeploymentCache } from './deployment-cache.ts';
import { MetricTemplateCache } from './metric-template-cache.ts';
import { applyHeapLimit, registerHeapMetrics } from './heap.ts';
import { startHttpServer } from './http-server.ts';
import type { HealthReport } from './http-server.ts';
import { coreLogFilter, createLogger, temporalLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import { revertCanary } from './revert.ts';
import { ensureSearchAttributes, temporalConnectionOptions } from './temporal-connection.ts';
import { RevisionWatcher } from './watcher.ts';
import { resolveRolloutPolicy } from './rollout-policies.ts';
import { primaryName } from '../canary/naming.ts';
import { startRolloutRepair } from './rollout-repair.ts';
import { FreezeWatch } from './freeze-watch.ts';
import { RolloutActionController, clusterPorts } from './rollout-actions.ts';
import type { CanaryObject } from './watcher.ts';
import { workflowCodeOption } from './workflow-bundle.ts';
import { PayloadCodecError, loadKeyRing } from './payload-codec.ts';
import { dataConverters, describeKeyRing } from './data-converter.ts';
import { loadCodecToken, startCodecServer } from './codec-server.ts';
import type { CodecServer } from './codec-server.ts';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
/**
 * Flagger's end-of-rollout counters and duration, from the phase transitions the watcher sees. Holds
 * one start time per rollout in progress, forgotten when it ends or its Canary is deleted.
 */
export function trackRollouts(metrics: ControllerMetrics): {
  track: (canary: CanaryObject, previous?: CanaryObject) => void;
  forget: (canaryKey: string) => void;
  inProgress: () => number;
} {
  const startedAt = new Map<string, number>();
  const track = (canary: CanaryObject, previous?: CanaryObject): void => {
    const phase = canary.status?.phase;
    if (!isCanaryPhase(phase)) return;
    const ref = {
      name: canary.metadata?.name ?? '',
      namespace: canary.metadata?.namespace ?? '',
      targetName: canary.spec?.targetRef?.name,
    };
    metrics.recordCanaryPhase(ref, phase);
    const before = previous?.status?.phase;
    if (before === phase) return;
    const key = `${ref.namespace}/${ref.name}`;
    if (isRolloutInProgress(phase) && !startedAt.has(key)) startedAt.set(key, Date.now());
    if (
      (phase === 'Succeeded' || phase === 'Failed') &&
      before !== undefined &&
      isCanaryPhase(before) &&
      isRolloutInProgress(before)
    ) {
      metrics.countRolloutEnd(ref, phase === 'Succeeded' ? 'promoted' : 'rolled-back');
      const began = startedAt.get(key);
      if (began !== undefined) metrics.observeRolloutDuration(ref, (Date.now() - began) / 1000);
      startedAt.delete(key);
    }
  };
  return { track, forget: (key) => startedAt.delete(key), inProgress: () => startedAt.size };
}

/**
 * `flagger_canary_total` by namespace, kept as counts that change only when a Canary appears or goes
 * (a Canary's status writes, many per rollout, cost a map lookup, not a count over every Canary).
 */
export function canaryTotals(metrics: Pick<ControllerMetrics, 'setCanaryTotals'>): {
  seen: (canaryKey: string, namespace: string) => void;
  deleted: (canaryKey: string) => void;
  size: () => number;
} {
  const namespaces = new Map<string, string>();
  const counts: Record<string, number> = {};
  return {
    seen(canaryKey, namespace) {
      if (namespaces.has(canaryKey)) return;
      namespaces.set(canaryKey, namespace);
      counts[namespace] = (counts[namespace] ?? 0) + 1;
      metrics.setCanaryTotals(counts);
    },
    deleted(canaryKey) {
      const namespace = namespaces.get(canaryKey);
      if (namespace === undefined) return;
      namespaces.delete(canaryKey);
      counts[namespace] = (counts[namespace] ?? 1) - 1;
      if (counts[namespace] === 0) delete counts[namespace];
      metrics.setCanaryTotals(counts);
    },
    size: () => namespaces.size,
  };
}

export async function runWorker(argv: string[]): Promise<number> {
  const loaded = loadWorkerConfig(argv, process.env);
  if (!loaded.ok) {
    process.stderr.write(`cutover worker: ${loaded.error}\n`);
    return 2;
  }
  const config: WorkerConfig = loaded.config;
  if (config.help) {
    process.stdout.write(workerUsage);
    return 0;
  }
  const log = createLogger(config.logLevel).child({ component: 'worker' });
  // First, before anything connects: it may replace this process with one that has the limit.
  if (config.maxHeapMb !== undefined) applyHeapLimit(config.maxHeapMb, log);
  Runtime.install({
    logger: temporalLogger(log),
    // SIGTERM and SIGINT are handled below, in order: the watcher stops first, then the worker drains.
    shutdownSignals: [],
    telemetryOptions: {
      // The Core's own lines (connection retries, poll failures) go to the same pino logger as JSON;
      // left to itself the Core prints coloured text to the console, most of all while Temporal is away.
      logging: { forward: {}, filter: coreLogFilter(config.logLevel) },
      // The SDK's own worker metrics (task slots, polls, latencies) on a second port: prom-client cannot
      // host the Rust core's exporter, and one port each keeps both scrape configs simple.
      ...(config.sdkMetricsPort === undefined
        ? {}
        : { metrics: { prometheus: { bindAddress: `${config.http.address}:${config.sdkMetricsPort}` } } }),
    },
  });
  const { temporal } = config;

  // Payload encryption: the key ring (and the codec server, which needs nothing else) before any
  // connection, so a bad key or a taken port is one line and nothing to clean up.
  let converters = dataConverters(undefined);
  let codecServer: CodecServer | undefined;
  const keyRingLog = describeKeyRing(undefined);
  try {
    const ring = loadKeyRing({
      env: process.env,
      ...(config.payloadKeyFile ? { file: config.payloadKeyFile } : {}),
    });
    Object.assign(keyRingLog, describeKeyRing(ring));
    converters = dataConverters(ring);
    if (config.codecServer) {
      const token = loadCodecToken(config.codecServer.tokenFile, process.env);
      codecServer = await startCodecServer(converters.codec, {
        ...config.codecServer,
        ...(token === undefined ? {} : { token }),
      });
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `cutover worker: ${error instanceof PayloadCodecError ? message : `cannot start the codec server: ${message}`}\n`,
    );
    return 2;
  }

  let native: NativeConnection;
  let connection: Connection;
  try {
    const options = temporalConnectionOptions(temporal);
    native = await NativeConnection.connect(options.native);
    connection = await Connection.connect(options.client);
  } catch (error) {
    log.error(`cannot reach Temporal at ${temporal.address}: set --temporal-address or TEMPORAL_ADDRESS`, {
      error: error instanceof Error ? error.message : String(error),
    });
    await codecServer?.close();
    return 4;
  }
  // The workflows this worker starts get a short workflow task timeout: a crash mid-task costs seconds.
  const client = new Client({
    connection,
    namespace: temporal.namespace,
    interceptors: { workflow: [workflowTaskTimeoutInterceptor()] },
    dataConverter: converters.client,
  });
  const attributes = await ensureSearchAttributes(connection, temporal.namespace);
  if (attributes.warning) log.warn(attributes.warning);
  else if (attributes.added.length > 0) log.info('registered search attributes', { added: attributes.added });

  const kubeconfig = loadKubeConfig(config.kubernetes);
  const metrics = createControllerMetrics({ version });
  const heapMetrics = registerHeapMetrics(metrics.registry);
  // One Deployment informer for the process: the watcher's events and every readiness wait. Until it
  // has listed, readiness waits read the API server, so the worker need not wait for it to start.
  const deployments = new DeploymentCache({
    kubeconfig,
    namespace: config.watchNamespace,
    log: log.child({ component: 'deployment-cache' }),
  });
  const deploymentsStarted = deployments.start();
  // MetricTemplates, read by every tick, from an informer too (the API server when it cannot say).
  const templates = new MetricTemplateCache({
    kubeconfig,
    namespace: config.watchNamespace,
    log: log.child({ component: 'metric-template-cache' }),
  });
  const templatesStarted = templates.start();
  // The watcher's informer copy of each Canary, once the watcher exists: status writes start from it.
  let canaryCopies: RevisionWatcher | undefined;
  const activities = createActivities({
    kubeconfig,
    temporal: client,
    defaultPrometheusUrl: config.prometheusUrl,
    ...(config.temporalUiUrl === undefined ? {} : { temporalUiUrl: config.temporalUiUrl }),
    deployments,
    cachedMetricTemplate: (namespace, name) => templates.cached(namespace, name),
    cachedCanary: (namespace, name) => canaryCopies?.cachedCanary(namespace, name),
    changeWindows: { onUnreadable: (message) => log.warn(message) },
  });
  const checkMetric = activities.checkMetric;
  activities.checkMetric = async (input: CheckMetricInput) => {
    const verdict = await checkMetric(input);
    if (verdict.value !== undefined) {
      metrics.setMetricAnalysis(
        { ...input.canary, targetName: input.canary.target },
        input.metric.name,
        verdict.value,
        verdict.valueUnit,
      );
    }
    return verdict;
  };

  const { tuning } = config;
  const workflowCode = workflowCodeOption((message, fields) => log.warn(message, fields));
  const worker = await Worker.create({
    connection: native,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    ...workflowCode,
    dataConverter: converters.worker,
    activities,
    shutdownGraceTime: config.shutdownGraceMs,
    ...crashRecoveryWorkerOptions,
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: tuning.maxConcurrentLocalActivities,
  });

  const rollouts = trackRollouts(metrics);
  const totals = canaryTotals(metrics);
  const watcher = config.watcher
    ? new RevisionWatcher({
        kubeconfig,
        namespace: config.watchNamespace,
        client,
        taskQueue: temporal.taskQueue,
        kubernetes: activities,
        minInterval: formatDuration(config.minIntervalMs),
        rolloutOptions: { prometheusUrl: config.prometheusUrl },
        lastStarted: new Map(),
        primaryMetadata: (namespace, target) =>
          deployments.cached(namespace, primaryName(target))?.deployment?.metadata,
        policies: (canary, valid) =>
          resolveRolloutPolicy(kubeconfig, canary, valid, {
            minInterval: formatDuration(config.minIntervalMs),
            onReportError: (error, policy) =>
              log.warn('could not write the verdict on a RolloutPolicy', {
                policy,
                error: error instanceof Error ? error.message : String(error),
              }),
          }),
        deployments,
        reconcileConcurrency: tuning.reconcileConcurrency,
        log: log.child({ component: 'watcher' }),
        onCanary: (canary, previous) => {
          rollouts.track(canary, previous);
          totals.seen(
            `${canary.metadata?.namespace}/${canary.metadata?.name}`,
            canary.metadata?.namespace ?? '',
          );
        },
        onCanaryDeleted: async (canary, lastReplicas) => {
          const canaryKey = `${canary.metadata?.namespace}/${canary.metadata?.name}`;
          totals.deleted(canaryKey);
          rollouts.forget(canaryKey);
          metrics.forgetCanary({
            name: canary.metadata?.name ?? '',
            namespace: canary.metadata?.namespace ?? '',
          });
          if (canary.spec?.revertOnDeletion) {
            const reverted = await revertCanary(kubeconfig, canary, lastReplicas);
            log.info('reverted on deletion', {
              canary: canary.metadata?.name,
              namespace: canary.metadata?.namespace,
              ...reverted,
            });
          }
        },
      })
    : undefined;

  // RolloutActions (cutover approve|promote|…, admitted with the identity the API server verified)
  // become Updates of the running rollouts. Beside the watcher: a --no-watcher worker only runs tasks.
  const rolloutActions =
    config.rolloutActions && config.watcher
      ? new RolloutActionController({
          kubeconfig,
          namespace: config.watchNamespace,
          ports: clusterPorts({
            kubeconfig,
            client,
            address: temporal.address,
            currentRevision: (input) => activities.currentRevision(input),
          }),
          log: log.child({ component: 'rollout-actions' }),
        })
      : undefined;

  // RolloutFreezes: each one's Ready condition, and a signal to the rollouts it may cover when it changes.
  const freezeWatch = watcher
    ? new FreezeWatch({
        kubeconfig,
        client,
        namespace: config.watchNamespace,
        log: log.child({ component: 'freeze-watch' }),
      })
    : undefined;

  // Temporal or the API server away for long: said in the log, on /readyz and on the Canaries
  // mid-rollout (the rollouts themselves cannot say it: none of their steps gets through meanwhile).
  const versionApi = kubeconfig.makeApiClient(VersionApi);
  const listCanaries = watcher
    ? canaryLister(kubeconfig.makeApiClient(CustomObjectsApi), config.watchNamespace)
    : () => Promise.resolve([]);
  const reportProgress = activities.reportProgress;
  const reachability = {
    temporal: new DependencyReachability({
      name: 'Temporal',
      reason: 'TemporalUnreachable',
      address: temporal.address,
      probe: async () => {
        await connection.withDeadline(Date.now() + 3_000, () => connection.workflowService.getSystemInfo({}));
      },
      // Past the call's own deadline, so the error said is the call's (UNAVAILABLE, DEADLINE_EXCEEDED).
      probeTimeoutMs: 4_000,
      log: log.child({ component: 'temporal' }),
      listCanaries,
      reportProgress,
    }),
    kubernetes: new DependencyReachability({
      name: 'the Kubernetes API server',
      reason: 'APIServerUnreachable',
      address: kubeconfig.getCurrentCluster()?.server ?? 'the cluster',
      probe: async () => {
        await versionApi.getCode();
      },
      log: log.child({ component: 'kubernetes' }),
      listCanaries,
      reportProgress,
    }),
  };
  const health = (): Promise<HealthReport> => {
    const state = worker.getState();
    return Promise.resolve({
      ok: state === 'RUNNING',
      checks: {
        worker: state,
        watcher: watcher ? 'running' : 'disabled',
        rolloutActions: rolloutActions ? 'running' : 'disabled',
      },
    });
  };
  const http = await startHttpServer({
    port: config.http.port,
    address: config.http.address,
    registry: metrics.registry,
    health,
    // Not ready while Temporal or the API server is unreachable; still live (a restart brings neither back).
    ready: async () => {
      const report = await health();
      const temporalCheck = reachability.temporal.describe();
      const kubernetesCheck = reachability.kubernetes.describe();
      return {
        ok: report.ok && temporalCheck === 'ok' && kubernetesCheck === 'ok',
        checks: { ...report.checks, temporal: temporalCheck, kubernetes: kubernetesCheck },
      };
    },
  });
  log.info('cutover worker started', {
    version,
    pid: process.pid,
    // Since the process started: what `cutover worker` costs before it takes work.
    startupMs: Math.round(performance.now()),
    workflowCode: 'workflowBundle' in workflowCode ? 'prebuilt bundle' : 'bundled in process',
    temporal: temporal.address,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    metrics: `${http.url}/metrics`,
    ...keyRingLog,
    ...(codecServer ? { codecEndpoint: codecServer.url } : {}),
  });

  let stopping = false;
  let repair: { stop(): void } | undefined;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down: in-flight activities get the grace period to finish', {
      signal,
      graceMs: config.shutdownGraceMs,
    });
    void (async () => {
      repair?.stop();
      await Promise.all([reachability.temporal.stop(), reachability.kubernetes.stop()]);
      await freezeWatch?.stop();
      await rolloutActions?.stop();
      await watcher?.stop();
      if (worker.getState() === 'RUNNING') worker.shutdown();
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  try {
    const running = worker.run();
    await Promise.all([deploymentsStarted, templatesStarted]);
    canaryCopies = watcher;
    if (!stopping) {
      reachability.temporal.start();
      reachability.kubernetes.start();
    }
    if (!stopping) await watcher?.start();
    if (!stopping) await freezeWatch?.start();
    if (!stopping) await rolloutActions?.start();
    // Rollouts that ended without their own result (terminated, timed out) are repaired by whoever
    // watches: every worker sweeps, and a repair is idempotent.
    if (!stopping && watcher) {
      repair = startRolloutRepair({
        client,
        ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
        kubernetes: activities,
        onRepair: (done) => log.warn('repaired a rollout that ended without its own result', { ...done }),
        onError: (error) =>
          log.warn('the sweep for abandoned rollouts failed; it runs again', {
            error: error instanceof Error ? error.message : String(error),
          }),
      });
    }
    await running;
    return 0;
  } catch (error) {
    log.error('worker stopped with an error', {
      error: error instanceof Error ? error.message : String(error),
    });
    return 1;
  } finally {
    // Again, for a signal that came while the watcher was starting.
    repair?.stop();
    await Promise.all([reachability.temporal.stop(), reachability.kubernetes.stop()]);
    await freezeWatch?.stop();
    await rolloutActions?.stop();
    await watcher?.stop();
    await deployments.stop();
    await templates.stop();
    heapMetrics.stop();
    await http.close();
    await codecServer?.close();
    await connection.close();
    await native.close();
  }
}

export type { Logger };

// `node worker/main.ts` runs the worker too, as `cutover worker` does (the same flags).
if (import.meta.main) {
  process.exitCode = await runWorker(process.argv.slice(2));
}
