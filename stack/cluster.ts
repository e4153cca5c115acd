// The local Kubernetes cluster: a real kube-apiserver, etcd, kube-controller-manager and
// kube-scheduler, built from Go modules and run by `kwokctl --runtime binary`, with KWOK simulating
// nodes and pods. Everything binds to loopback and every node reports 127.0.0.1 as its address, so
// nothing in the stack ever dials an address that is not on this machine.
//
// `up` keeps a cluster's data: components that died are started again from kwokctl's saved
// configuration (etcd's data directory stays). A cluster is rebuilt only when it cannot be repaired or
// was made with an older layout, and then the stack says so, and why, and keeps the old files aside.
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clusterComponents, clusterDir, clusterName } from './cluster-components.ts';
import { clusterPortsForCreate } from './cluster-ports.ts';
import type { ClusterPorts } from './cluster-ports.ts';
import { probePods } from './pod-probe.ts';
import { sleep, waitFor } from './processes.ts';
import { localKubeconfig, localPorts } from './endpoints.ts';
import { stackProcesses, stopProcesses } from './stack-processes.ts';
import { readVersions, toolPath } from './tools.ts';

const run = promisify(execFile);
export const nodeNames = ['kwok-node-0', 'kwok-node-1'];

/**
 * What a cluster is made with. Room for 2,000 Canaries (4 Services and 2–4 pods each) and more: the
 * apiserver's default Service range is a /24 (full near 85 Canaries) and a KWOK node takes 110 pods.
 * `version` is bumped whenever a field changes, so an older cluster is recognised.
 */
export const clusterLayout = {
  version: 2,
  serviceRange: '10.96.0.0/16',
  podRange: '10.64.0.0/12',
  podsPerNode: 10_000,
} as const;

export type Say = (message: string) => void;

function kwokEnv(stateDir: string): NodeJS.ProcessEnv {
  return { ...process.env, KWOK_WORKDIR: join(stateDir, 'kwok') };
}

function layoutFile(stateDir: string): string {
  return join(stateDir, 'cluster-layout.json');
}

function kwokctlConfig(ports: ClusterPorts): string {
  const versions = readVersions();
  const docs = [
    {
      apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
      kind: 'KwokctlConfiguration',
      options: {
        runtime: 'binary',
        kubeVersion: versions.KUBERNETES_VERSION,
        bindAddress: '127.0.0.1',
        kubeApiserverPort: localPorts.kubeApiserver,
        etcdPort: ports.etcd,
        etcdPeerPort: ports.etcdPeer,
        kubeControllerManagerPort: ports.kubeControllerManager,
        kubeSchedulerPort: ports.kubeScheduler,
        kwokControllerPort: ports.kwokController,
        // The controller-manager and scheduler talk to the apiserver at 20 requests/s by default,
        // which is what a thousand Deployments rolling out at once wait on.
        disableQPSLimits: true,
        kubeApiserverBinary: toolPath('kube-apiserver'),
        kubeControllerManagerBinary: toolPath('kube-controller-manager'),
        kubeSchedulerBinary: toolPath('kube-scheduler'),
        kubectlBinary: toolPath('kubectl'),
        kwokControllerBinary: toolPath('kwok'),
        etcdBinary: toolPath('etcd'),
      },
      componentsPatches: [
        {
          name: 'kube-apiserver',
          extraArgs: [{ key: 'service-cluster-ip-range', value: clusterLayout.serviceRange }],
        },
        // With one replica, leader election only adds a way to die: after an apiserver pause longer
        // than the lease, both exit ("leaderelection lost") and nothing would run Deployments.
        {
          name: 'kube-controller-manager',
          extraArgs: [
            { key: 'leader-elect', value: 'false' },
            { key: 'concurrent-deployment-syncs', value: '20' },
            { key: 'concurrent-replicaset-syncs', value: '20' },
          ],
        },
        { name: 'kube-scheduler', extraArgs: [{ key: 'leader-elect', value: 'false' }] },
      ],
    },
    {
      apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
      kind: 'KwokConfiguration',
      // kwokctl hands this document to the controller without defaulting it, so the defaults that
      // matter are spelled out; nodeIP keeps every node address on this machine.
      options: {
        nodeIP: '127.0.0.1',
        cidr: clusterLayout.podRange,
        podPlayStageParallelism: 4,
        nodePlayStageParallelism: 4,
        nodeLeaseParallelism: 4,
        nodeLeaseDurationSeconds: 40,
        podsOnNodeSyncParallelism: 1,
        enablePodsOnNodeSyncListPager: true,
        enablePodsOnNodeSyncStreamWatch: false,
      },
    },
  ];
  // kwokctl reads multi-document YAML; JSON documents are valid YAML.
  return docs.map((d) => JSON.stringify(d)).join('\n---\n');
}

export function kubeClient(kubeconfig: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfig);
  return config;
}

/** Whether the apiserver answers within `timeoutMs` and reports a Ready node. */
export async function clusterHealthy(kubeconfig: string, timeoutMs = 5000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const tooLate = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const answer = (async () => {
    try {
      const core = kubeClient(kubeconfig).makeApiClient(k8s.CoreV1Api);
      const nodes = await core.listNode();
      return nodes.items.some((n) =>
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
    } catch {
      return false;
    }
  })();
  try {
    return await Promise.race([answer, tooLate]);
  } finally {
    clearTimeout(timer);
  }
}

interface RecordedLayout {
  version?: number;
  serviceRange?: string;
}

/** Why the existing cluster does not have today's layout, or undefined when it does. */
export function outdatedLayout(stateDir: string): string | undefined {
  let recorded: RecordedLayout = {};
  try {
    recorded = JSON.parse(readFileSync(layoutFile(stateDir), 'utf8')) as RecordedLayout;
  } catch {
    // a cluster made before layouts were recorded
  }
  if (recorded.version === clusterLayout.version) return undefined;
  return (
    `it was made with layout ${recorded.version ?? 1} (Service range ${recorded.serviceRange ?? '10.0.0.0/24'}), ` +
    `today's is ${clusterLayout.version} (Service range ${clusterLayout.serviceRange}, pod range ` +
    `${clusterLayout.podRange}, ${clusterLayout.podsPerNode} pods per node)`
  );
}

function fakeNode(name: string): k8s.V1Node {
  const resources = { cpu: '1000', memory: '4Ti', pods: String(clusterLayout.podsPerNode) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', type: 'kwok' },
    },
    status: { allocatable: resources, capacity: resources },
  };
}

async function kwokctl(stateDir: string, args: string[]): Promise<void> {
  await run(toolPath('kwokctl'), ['--name', clusterName, ...args], {
    env: kwokEnv(stateDir),
    maxBuffer: 16 * 1024 * 1024,
    timeout: 180_000,
  });
}

async function waitUsable(kubeconfig: string, say: Say): Promise<void> {
  await waitFor('the local cluster to report a Ready node', () => clusterHealthy(kubeconfig), 60_000);
  // The controller-manager creates the default ServiceAccount a moment after start; pods need it.
  const config = kubeClient(kubeconfig);
  const core = config.makeApiClient(k8s.CoreV1Api);
  await waitFor(
    'the default ServiceAccount',
    async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    },
    60_000,
  );
  const tookMs = await probePods(config, nodeNames.length, say);
  say(`the local cluster runs pods (a probe pod on each node was Ready in ${(tookMs / 1000).toFixed(1)}s)`);
}

async function kwokctlCreate(stateDir: string, kubeconfig: string): Promise<ClusterPorts> {
  const ports = await clusterPortsForCreate(stateDir, Object.values(localPorts));
  const configFile = join(stateDir, 'kwokctl.yaml');
  writeFileSync(configFile, kwokctlConfig(ports));
  await kwokctl(stateDir, [
    '--config',
    configFile,
    'create',
    'cluster',
    '--kubeconfig',
    kubeconfig,
    '--wait',
    '60s',
  ]);
  return ports;
}

async function createCluster(stateDir: string, say: Say): Promise<void> {
  const kubeconfig = localKubeconfig();
  mkdirSync(join(stateDir, 'kwok'), { recursive: true });
  try {
    await kwokctlCreate(stateDir, kubeconfig);
  } catch (error) {
    // Another stack may have taken one of the free ports between our check and etcd's bind: try once
    // more with ports checked again (a taken one is replaced).
    say(`creating the cluster failed (${firstLine(error)}); trying once more with ports checked again`);
    await kwokctl(stateDir, ['delete', 'cluster']).catch(() => undefined);
    await kwokctlCreate(stateDir, kubeconfig);
  }
  writeFileSync(layoutFile(stateDir), `${JSON.stringify(clusterLayout, null, 2)}\n`);
  const core = kubeClient(kubeconfig).makeApiClient(k8s.CoreV1Api);
  for (const name of nodeNames) {
    try {
      await core.createNode({ body: fakeNode(name) });
    } catch (error) {
      if (!(error instanceof k8s.ApiException) || error.code !== 409) throw error;
    }
  }
  await waitUsable(kubeconfig, say);
}

/** Stops whatever runs of a cluster and moves its files aside, so a new one can be made. */
async function setAside(stateDir: string, say: Say): Promise<string> {
  await kwokctl(stateDir, ['stop', 'cluster']).catch(() => undefined);
  const dir = clusterDir(stateDir);
  await stopProcesses(stackProcesses(stateDir).filter((p) => p.commandLine.includes(`${dir}/`)));
  const aside = join(stateDir, 'kwok', 'set-aside', new Date().toISOString().replaceAll(':', '-'));
  mkdirSync(join(aside, '..'), { recursive: true });
  renameSync(dir, aside);
  say(`the old cluster's files, etcd data included, are kept in ${aside}`);
  return aside;
}

/** Says, when the running cluster has an older layout than today's, how to rebuild it. */
export function warnIfOutdated(stateDir: string, say: Say): void {
  const outdated = outdatedLayout(stateDir);
  if (outdated)
    say(
      `WARNING: the running cluster is outdated: ${outdated}. ` +
        'Run `npm run stack -- down` and `up` to rebuild it (its objects are lost).',
    );
}

/** What `startCluster` did: a new cluster (new certificates) needs new clients. */
export type ClusterStart = 'running' | 'repaired' | 'created' | 'rebuilt';

async function rebuild(stateDir: string, say: Say, why: string): Promise<'rebuilt'> {
  say(`WARNING: rebuilding the local cluster EMPTY because ${why}; its objects are lost`);
  await setAside(stateDir, say);
  await createCluster(stateDir, say);
  return 'rebuilt';
}

/**
 * Brings the cluster up: creates it the first time, starts the components that died otherwise (its
 * data kept), and rebuilds it, loudly, only when that fails or its layout is outdated.
 */
export async function startCluster(stateDir: string, say: Say): Promise<ClusterStart> {
  const kubeconfig = localKubeconfig();
  if (!existsSync(clusterDir(stateDir))) {
    await createCluster(stateDir, say);
    return 'created';
  }
  const components = clusterComponents(stateDir);
  if (components === undefined)
    return rebuild(stateDir, say, `${clusterDir(stateDir)} has no kwok.yaml (its creation was cut short)`);
  const dead = components.filter((c) => !c.running).map((c) => c.name);
  if (dead.length === 0 && (await clusterHealthy(kubeconfig))) {
    warnIfOutdated(stateDir, say);
    return 'running';
  }
  const outdated = outdatedLayout(stateDir);
  if (outdated) return rebuild(stateDir, say, outdated);
  say(
    dead.length > 0
      ? `repairing the local cluster (its data kept): starting ${dead.join(', ')}`
      : 'the local cluster does not answer, though all its processes run: waiting for it',
  );
  try {
    if (dead.length > 0) await startComponents(stateDir, say);
  } catch (error) {
    return rebuild(stateDir, say, `starting its components failed: ${firstLine(error)}`);
  }
  try {
    await waitUsable(kubeconfig, say);
    return 'repaired';
  } catch (error) {
    const logs = join(clusterDir(stateDir), 'logs');
    const exitedAgain = (clusterComponents(stateDir) ?? []).filter((c) => !c.running).map((c) => c.name);
    if (exitedAgain.length > 0)
      return rebuild(
        stateDir,
        say,
        `${exitedAgain.join(', ')} exit again right after a restart (see ${logs})`,
      );
    // Every process runs: the apiserver is paused or overloaded, which a rebuild would not cure.
    throw new Error(
      `the local cluster's processes run but it does not answer (${firstLine(error)}); it may be paused ` +
        `or overloaded, see ${logs}. \`npm run stack -- down\` and \`up\` rebuild it (its objects are lost).`,
    );
  }
}

/**
 * `kwokctl start cluster` until every component that was down runs. kwokctl skips a component whose
 * pid file names a process that still exists, and a killed one can linger as a zombie until init
 * reaps it: the restart then silently starts nothing (seen here after a `kill -9`).
 */
async function startComponents(stateDir: string, say: Say): Promise<void> {
  const deadline = Date.now() + 30_000;
  let still: string[] = [];
  for (let attempt = 1; ; attempt++) {
    await kwokctl(stateDir, ['start', 'cluster']);
    const settled = Date.now() + 2_000;
    while (Date.now() < settled) {
      still = (clusterComponents(stateDir) ?? []).filter((c) => !c.running).map((c) => c.name);
      if (still.length === 0) return;
      await sleep(200);
    }
    if (Date.now() >= deadline) throw new Error(`${still.join(', ')} did not start after ${attempt} tries`);
    if (attempt === 1) say(`${still.join(', ')} not running after \`kwokctl start cluster\`; trying again`);
  }
}

function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

export async function deleteCluster(stateDir: string): Promise<void> {
  try {
    await kwokctl(stateDir, ['delete', 'cluster', '--kubeconfig', localKubeconfig()]);
  } catch (error) {
    // An already-deleted cluster is the state we want.
    const message = error instanceof Error ? error.message : String(error);
    if (!/not exist|not found/i.test(message)) throw error;
  }
}
