// Starts, checks and stops the local stack: Temporal dev server, KWOK cluster, Prometheus and the pod
// runner. Each component the user provides instead (TEMPORAL_ADDRESS, KUBECONFIG, PROMETHEUS_URL) is
// left alone.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterHealthy, deleteCluster, startCluster } from './cluster.ts';
import { stackEndpoints } from './endpoints.ts';
import type { StackEndpoints } from './endpoints.ts';
import { withStackLock } from './lock.ts';
import { ProcessTable, waitFor } from './processes.ts';
import { prometheusHealthy, startPrometheus } from './prometheus.ts';
import { startTemporal, temporalHealthy } from './temporal.ts';
import { repoRoot } from './tools.ts';

export type Component = 'temporal' | 'kubernetes' | 'prometheus' | 'pod-runner';
export const allComponents: Component[] = ['temporal', 'kubernetes', 'prometheus', 'pod-runner'];

export interface ComponentStatus {
  component: Component;
  healthy: boolean;
  address: string;
  external: boolean;
  pid?: number;
}

function say(message: string): void {
  process.stderr.write(`[stack] ${message}\n`);
}

export async function stackStatus(endpoints: StackEndpoints = stackEndpoints()): Promise<ComponentStatus[]> {
  const processes = new ProcessTable(endpoints.stateDir);
  const runnerPid = processes.pid('pod-runner');
  const [temporal, kubernetes, prometheus] = await Promise.all([
    temporalHealthy(endpoints.temporalAddress),
    clusterHealthy(endpoints.kubeconfig),
    prometheusHealthy(endpoints.prometheusUrl),
  ]);
  return [
    {
      component: 'temporal',
      healthy: temporal,
      address: `${endpoints.temporalAddress} (UI ${endpoints.temporalUiUrl})`,
      external: endpoints.external.temporal,
      pid: processes.pid('temporal'),
    },
    {
      component: 'kubernetes',
      healthy: kubernetes,
      address: endpoints.kubeconfig,
      external: endpoints.external.kubernetes,
    },
    {
      component: 'prometheus',
      healthy: prometheus,
      address: endpoints.prometheusUrl,
      external: endpoints.external.prometheus,
      pid: processes.pid('prometheus'),
    },
    {
      component: 'pod-runner',
      healthy: runnerPid !== undefined && existsSync(endpoints.servicesFile),
      address: endpoints.servicesFile,
      external: endpoints.external.kubernetes,
      pid: runnerPid,
    },
  ];
}

async function timed(what: string, start: () => Promise<void>): Promise<void> {
  const began = Date.now();
  say(`starting ${what}`);
  await start();
  say(`${what} ready in ${((Date.now() - began) / 1000).toFixed(1)}s`);
}

async function startPodRunner(processes: ProcessTable, endpoints: StackEndpoints): Promise<void> {
  if (processes.pid('pod-runner') !== undefined) return;
  processes.start({
    name: 'pod-runner',
    command: process.execPath,
    args: [join(repoRoot, 'stack', 'pod-runner-main.ts')],
    env: { ...process.env, KUBECONFIG: endpoints.kubeconfig, CUTOVER_STATE_DIR: endpoints.stateDir },
  });
  await waitFor('the pod runner', async () => existsSync(endpoints.servicesFile), 30_000);
}

/** Brings up every local component that is not already healthy; returns the ones it started. */
export async function stackUp(endpoints: StackEndpoints = stackEndpoints()): Promise<Component[]> {
  mkdirSync(endpoints.stateDir, { recursive: true });
  return withStackLock(endpoints.stateDir, () => startMissing(endpoints));
}

async function startMissing(endpoints: StackEndpoints): Promise<Component[]> {
  const processes = new ProcessTable(endpoints.stateDir);
  const before = await stackStatus(endpoints);
  const toStart = before.filter((s) => !s.healthy && !s.external).map((s) => s.component);
  const began = Date.now();
  await Promise.all([
    toStart.includes('temporal')
      ? timed('Temporal dev server', () => startTemporal(processes, endpoints.stateDir))
      : undefined,
    toStart.includes('prometheus')
      ? timed('Prometheus', () => startPrometheus(processes, endpoints.stateDir))
      : undefined,
    toStart.includes('kubernetes') || toStart.includes('pod-runner')
      ? timed('Kubernetes (KWOK) and the pod runner', async () => {
          await startCluster(endpoints.stateDir);
          await startPodRunner(processes, endpoints);
        })
      : undefined,
  ]);
  say(`stack up in ${((Date.now() - began) / 1000).toFixed(1)}s`);
  return toStart;
}

/** Stops the named local components (default: all), leaving no process behind. */
export async function stackDown(
  components: Component[] = allComponents,
  endpoints: StackEndpoints = stackEndpoints(),
): Promise<void> {
  mkdirSync(endpoints.stateDir, { recursive: true });
  await withStackLock(endpoints.stateDir, () => stopComponents(components, endpoints));
}

async function stopComponents(components: Component[], endpoints: StackEndpoints): Promise<void> {
  const processes = new ProcessTable(endpoints.stateDir);
  if (components.includes('pod-runner') || components.includes('kubernetes'))
    await processes.stop('pod-runner');
  await Promise.all([
    components.includes('kubernetes') && !endpoints.external.kubernetes
      ? deleteCluster(endpoints.stateDir)
      : undefined,
    components.includes('prometheus') ? processes.stop('prometheus') : undefined,
    components.includes('temporal') ? processes.stop('temporal') : undefined,
  ]);
  say(`stopped ${components.join(', ')}`);
}
