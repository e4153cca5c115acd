// The local Kubernetes cluster: a real kube-apiserver, etcd, kube-controller-manager and
// kube-scheduler, built from Go modules and run by `kwokctl --runtime binary`, with KWOK simulating
// nodes and pods. Everything binds to loopback and every node reports 127.0.0.1 as its address, so
// nothing in the stack ever dials an address that is not on this machine.
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './processes.ts';
import { localKubeconfig, localPorts } from './endpoints.ts';
import { readVersions, toolPath } from './tools.ts';

const run = promisify(execFile);
export const clusterName = 'cutover';
export const nodeNames = ['kwok-node-0', 'kwok-node-1'];

function kwokEnv(stateDir: string): NodeJS.ProcessEnv {
  return { ...process.env, KWOK_WORKDIR: join(stateDir, 'kwok') };
}

function kwokctlConfig(): string {
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
        kubeApiserverBinary: toolPath('kube-apiserver'),
        kubeControllerManagerBinary: toolPath('kube-controller-manager'),
        kubeSchedulerBinary: toolPath('kube-scheduler'),
        kubectlBinary: toolPath('kubectl'),
        kwokControllerBinary: toolPath('kwok'),
        etcdBinary: toolPath('etcd'),
      },
    },
    {
      apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
      kind: 'KwokConfiguration',
      // kwokctl hands this document to the controller without defaulting it, so the defaults that
      // matter are spelled out; nodeIP keeps every node address on this machine.
      options: {
        nodeIP: '127.0.0.1',
        cidr: '10.0.0.1/24',
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

export async function clusterHealthy(kubeconfig: string): Promise<boolean> {
  try {
    const core = kubeClient(kubeconfig).makeApiClient(k8s.CoreV1Api);
    const nodes = await core.listNode();
    return nodes.items.some((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  } catch {
    return false;
  }
}

function fakeNode(name: string): k8s.V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', type: 'kwok' },
    },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
    },
  };
}

export async function startCluster(stateDir: string): Promise<void> {
  const kubeconfig = localKubeconfig();
  if (await clusterHealthy(kubeconfig)) return;
  // A cluster left behind by a killed session has stale pids and certificates: start from scratch.
  if (existsSync(join(stateDir, 'kwok', 'clusters', clusterName))) await deleteCluster(stateDir);
  mkdirSync(join(stateDir, 'kwok'), { recursive: true });
  const configFile = join(stateDir, 'kwokctl.yaml');
  writeFileSync(configFile, kwokctlConfig());
  const env = kwokEnv(stateDir);
  await run(
    toolPath('kwokctl'),
    [
      '--config',
      configFile,
      '--name',
      clusterName,
      'create',
      'cluster',
      '--kubeconfig',
      kubeconfig,
      '--wait',
      '60s',
    ],
    { env, maxBuffer: 16 * 1024 * 1024 },
  );
  const core = kubeClient(kubeconfig).makeApiClient(k8s.CoreV1Api);
  for (const name of nodeNames) {
    try {
      await core.createNode({ body: fakeNode(name) });
    } catch (error) {
      if (!(error instanceof k8s.ApiException) || error.code !== 409) throw error;
    }
  }
  await waitFor('the local cluster to report a Ready node', () => clusterHealthy(kubeconfig), 60_000);
  // The controller-manager creates the default ServiceAccount a moment after start; pods need it.
  await waitFor(
    'the default ServiceAccount',
    async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    },
    60_000,
  );
}

export async function deleteCluster(stateDir: string): Promise<void> {
  try {
    await run(
      toolPath('kwokctl'),
      ['--name', clusterName, 'delete', 'cluster', '--kubeconfig', localKubeconfig()],
      {
        env: kwokEnv(stateDir),
      },
    );
  } catch (error) {
    // An already-deleted cluster is the state we want.
    const message = error instanceof Error ? error.message : String(error);
    if (!/not exist|not found/i.test(message)) throw error;
  }
}
