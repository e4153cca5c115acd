// `cutover worker`: one process with the Temporal worker (rollout workflows and their activities), the
// revision watcher, and /metrics + /healthz. Thin: everything it runs lives elsewhere.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createActivities } from '../activities/index.ts';
import type { CheckMetricInput } from '../activities/metric-checks.ts';
import { formatDuration } from '../canary/duration.ts';
import { isCanaryPhase, isRolloutInProgress } from '../canary/status.ts';
import { loadKubeConfig, loadWorkerConfig, workerUsage } from './config.ts';
import type { WorkerConfig } from './config.ts';
import { createControllerMetrics } from './controller-metrics.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import { startHttpServer } from './http-server.ts';
import { createLogger, temporalLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import { revertCanary } from './revert.ts';
import { ensureSearchAttributes, temporalConnectionOptions } from './temporal-connection.ts';
import { RevisionWatcher } from './watcher.ts';
import type { CanaryObject } from './watcher.ts';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Flagger's end-of-rollout counters and duration, from the phase transitions the watcher sees. */
function trackRollouts(metrics: ControllerMetrics): (canary: CanaryObject, previous?: CanaryObject) => void {
  const startedAt = new Map<string, number>();
  return (canary, previous) => {
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
}

function countByNamespace(namespaces: Map<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const namespace of namespaces.values()) counts[namespace] = (counts[namespace] ?? 0) + 1;
  return counts;
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
  Runtime.install({
    logger: temporalLogger(log),
    // The SDK's own worker metrics (task slots, polls, latencies) on a second port: prom-client cannot
    // host the Rust core's exporter, and one port each keeps both scrape configs simple.
    ...(config.sdkMetricsPort === undefined
      ? {}
      : {
          telemetryOptions: {
            metrics: { prometheus: { bindAddress: `${config.http.address}:${config.sdkMetricsPort}` } },
          },
        }),
  });
  const { temporal } = config;

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
    return 4;
  }
  const client = new Client({ connection, namespace: temporal.namespace });
  const attributes = await ensureSearchAttributes(connection, temporal.namespace);
  if (attributes.warning) log.warn(attributes.warning);
  else if (attributes.added.length > 0) log.info('registered search attributes', { added: attributes.added });

  const kubeconfig = loadKubeConfig(config.kubernetes);
  const metrics = createControllerMetrics({ version });
  const activities = createActivities({
    kubeconfig,
    temporal: client,
    defaultPrometheusUrl: config.prometheusUrl,
  });
  const checkMetric = activities.checkMetric;
  activities.checkMetric = async (input: CheckMetricInput) => {
    const verdict = await checkMetric(input);
    if (verdict.value !== undefined) {
      metrics.setMetricAnalysis(
        { ...input.canary, targetName: input.canary.target },
        input.metric.name,
        verdict.value,
      );
    }
    return verdict;
  };

  const worker = await Worker.create({
    connection: native,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    workflowsPath,
    activities,
    shutdownGraceTime: config.shutdownGraceMs,
  });

  const track = trackRollouts(metrics);
  /** canary key → namespace, for `flagger_canary_total`. */
  const namespaces = new Map<string, string>();
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
        log: log.child({ component: 'watcher' }),
        onCanary: (canary, previous) => {
          track(canary, previous);
          namespaces.set(
            `${canary.metadata?.namespace}/${canary.metadata?.name}`,
            canary.metadata?.namespace ?? '',
          );
          metrics.setCanaryTotals(countByNamespace(namespaces));
        },
        onCanaryDeleted: async (canary, lastReplicas) => {
          namespaces.delete(`${canary.metadata?.namespace}/${canary.metadata?.name}`);
          metrics.setCanaryTotals(countByNamespace(namespaces));
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

  const http = await startHttpServer({
    port: config.http.port,
    address: config.http.address,
    registry: metrics.registry,
    health: async () => {
      const state = worker.getState();
      return {
        ok: state === 'RUNNING',
        checks: { worker: state, watcher: watcher ? 'running' : 'disabled' },
      };
    },
  });
  log.info('cutover worker started', {
    version,
    temporal: temporal.address,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    metrics: `${http.url}/metrics`,
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down: in-flight activities get the grace period to finish', {
      signal,
      graceMs: config.shutdownGraceMs,
    });
    void (async () => {
      await watcher?.stop();
      worker.shutdown();
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  try {
    const running = worker.run();
    await watcher?.start();
    await running;
    return 0;
  } catch (error) {
    log.error('worker stopped with an error', {
      error: error instanceof Error ? error.message : String(error),
    });
    return 1;
  } finally {
    await http.close();
    await connection.close();
    await native.close();
  }
}

export type { Logger };
