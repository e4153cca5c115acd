// Starts, checks and stops the local stack: Temporal dev server, KWOK cluster, Prometheus and the pod
// runner, and the supervisor that starts again whichever of them exits. Each component the user
// provides instead (TEMPORAL_ADDRESS, KUBECONFIG, PROMETHEUS_URL) is left alone.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clusterComponents } from './cluster-components.ts';
import { clusterHealthy, deleteCluster, startCluster, warnIfOutdated } from './cluster.ts';
import { stackEndpoints } from './endpoints.ts';
import type { StackEndpoints } from './endpoints.ts';
import { withStackLock } from './lock.ts';
import { ProcessTable, waitFor } from './processes.ts';
import { prometheusHealthy, startPrometheus } from './prometheus.ts';
import { stackProcesses, stopProcesses } from './stack-processes.ts';
import { superviseVariable } from './supervisor.ts';
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
  /** What is wrong, when it is not healthy and the stack knows why. */
  problem?: string;
}

function say(message: string): void {
  process.stderr.write(`[stack] ${message}\n`);
}

export async function stackStatus(endpoints: StackEndpoints = stackEndpoints()): Promise<ComponentStatus[]> {
  const processes = new ProcessTable(endpoints.stateDir);
  const runnerPid = processes.pid('pod-runner');
  const [temporal, apiserver, prometheus] = await Promise.all([
    temporalHealthy(endpoints.temporalAddress),
    clusterHealthy(endpoints.kubeconfig),
    prometheusHealthy(endpoints.prometheusUrl),
  ]);
  // A cluster can answer while one of its components is gone (a scheduler that exited leaves new
  // pods Pending): every component kwokctl started must run.
  const stopped = endpoints.external.kubernetes
    ? []
    : (clusterComponents(endpoints.stateDir) ?? []).filter((c) => !c.running).map((c) => c.name);
  const kubernetes = apiserver && stopped.length === 0;
  const runnerProblem =
    runnerPid === undefined ? 'not running' : existsSync(endpoints.servicesFile) ? undefined : 'starting';
  const problems = {
    temporal: temporal ? undefined : `no answer at ${endpoints.temporalAddress}`,
    kubernetes:
      stopped.length > 0
        ? `not running: ${stopped.join(', ')}`
        : apiserver
          ? undefined
          : 'the apiserver does not answer or no node is Ready',
    prometheus: prometheus ? undefined : `no answer at ${endpoints.prometheusUrl}/-/ready`,
  };
  return [
    {
      component: 'temporal',
      healthy: temporal,
      address: `${endpoints.temporalAddress} (UI ${endpoints.temporalUiUrl})`,
      external: endpoints.external.temporal,
      pid: processes.pid('temporal'),
      problem: problems.temporal,
    },
    {
      component: 'kubernetes',
      healthy: kubernetes,
      address: endpoints.kubeconfig,
      external: endpoints.external.kubernetes,
      problem: problems.kubernetes,
    },
    {
      component: 'prometheus',
      healthy: prometheus,
      address: endpoints.prometheusUrl,
      external: endpoints.external.prometheus,
      pid: processes.pid('prometheus'),
      problem: problems.prometheus,
    },
    {
      component: 'pod-runner',
      healthy: runnerProblem === undefined,
      address: endpoints.servicesFile,
      external: endpoints.external.kubernetes,
      pid: runnerPid,
      problem: runnerProblem,
    },
  ];
}

async function timed(what: string, start: () => Promise<void>): Promise<void> {
  const began = Date.now();
  say(`starting ${what}`);
  await start();
  say(`${what} ready in ${((Date.now() - began) / 1000).toFixed(1)}s`);
}

async function startPodRunner(
  processes: ProcessTable,
  endpoints: StackEndpoints,
  newCluster: boolean,
): Promise<void> {
  if (processes.pid('pod-runner') !== undefined && !newCluster) return;
  // A pod runner that died leaves its podinfo processes in its process group: stop them first. One
  // that watched a cluster now replaced holds the old certificates and the old pods: stop it too.
  await processes.stop('pod-runner');
  rmSync(endpoints.servicesFile, { force: true });
  processes.start({
    name: 'pod-runner',
    command: process.execPath,
    // --state-dir names the stack on the command line, so `down` finds the process even without its pid file.
    args: [join(repoRoot, 'stack', 'pod-runner-main.ts'), '--state-dir', endpoints.stateDir],
    env: { ...process.env, KUBECONFIG: endpoints.kubeconfig, CUTOVER_STATE_DIR: endpoints.stateDir },
  });
  await waitFor('the pod runner', async () => existsSync(endpoints.servicesFile), 30_000);
}

function startSupervisor(processes: ProcessTable, endpoints: StackEndpoints): void {
  if (process.env[superviseVariable] === '0' || processes.pid('supervisor') !== undefined) return;
  processes.start({
    name: 'supervisor',
    command: process.execPath,
    args: [join(repoRoot, 'stack', 'supervisor-main.ts'), '--state-dir', endpoints.stateDir],
    env: { ...process.env, CUTOVER_STATE_DIR: endpoints.stateDir },
  });
}

/** Brings up every local component that is not already healthy; returns the ones it started. */
export async function stackUp(endpoints: StackEndpoints = stackEndpoints()): Promise<Component[]> {
  mkdirSync(endpoints.stateDir, { recursive: true });
  return withStackLock(endpoints.stateDir, async () => {
    const started = await startMissing(endpoints);
    startSupervisor(new ProcessTable(endpoints.stateDir), endpoints);
    return started;
  });
}

/**
 * The supervisor's way back: starts the named components again when they are unhealthy. Gives up at
 * once (throws) while an `up` or `down` holds the stack, which then decides.
 */
export async function restartExited(components: Component[], endpoints: StackEndpoints): Promise<void> {
  await withStackLock(endpoints.stateDir, () => startMissing(endpoints, components), 0);
}

async function startMissing(
  endpoints: StackEndpoints,
  only: Component[] = allComponents,
): Promise<Component[]> {
  const processes = new ProcessTable(endpoints.stateDir);
  const before = await stackStatus(endpoints);
  const toStart = before
    .filter((s) => !s.healthy && !s.external && only.includes(s.component))
    .map((s) => s.component);
  if (!toStart.includes('kubernetes') && !endpoints.external.kubernetes)
    warnIfOutdated(endpoints.stateDir, say);
  const began = Date.now();
  await Promise.all([
    toStart.includes('temporal')
      ? timed('Temporal dev server', async () => {
          await processes.stop('temporal'); // one that hangs, or whose pid outlived it
          await startTemporal(processes, endpoints.stateDir);
        })
      : undefined,
    toStart.includes('prometheus')
      ? timed('Prometheus', async () => {
          await processes.stop('prometheus');
          await startPrometheus(processes, endpoints.stateDir);
        })
      : undefined,
    toStart.includes('kubernetes') || toStart.includes('pod-runner')
      ? timed('Kubernetes (KWOK) and the pod runner', async () => {
          const cluster = await startCluster(endpoints.stateDir, say);
          await startPodRunner(processes, endpoints, cluster === 'created' || cluster === 'rebuilt');
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
  // First, so that nothing stopped below is started again.
  if (components.length === allComponents.length) await processes.stop('supervisor');
  if (components.includes('pod-runner') || components.includes('kubernetes'))
    await processes.stop('pod-runner');
  await Promise.all([
    components.includes('kubernetes') && !endpoints.external.kubernetes
      ? deleteCluster(endpoints.stateDir)
      : undefined,
    components.includes('prometheus') ? processes.stop('prometheus') : undefined,
    components.includes('temporal') ? processes.stop('temporal') : undefined,
  ]);
  if (components.length === allComponents.length) {
    // Whatever a crash or a rebuild left behind without a pid file still names the state directory.
    const left = stackProcesses(endpoints.stateDir);
    if (left.length > 0) {
      say(
        `stopping ${left.length} leftover process(es): ${left.map((p) => `${p.pid} ${p.commandLine.slice(0, 80)}`).join('; ')}`,
      );
      await stopProcesses(left);
    }
  }
  say(`stopped ${components.join(', ')}`);
}
