import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { clusterComponents } from '../../stack/cluster-components.ts';
import { isLoopback, listeningAddresses } from '../../stack/listening-sockets.ts';
import { readServiceMap } from '../../stack/pod-runner.ts';
import { waitFor } from '../../stack/processes.ts';
import { stackProcesses } from '../../stack/stack-processes.ts';
import { repoRoot } from '../../stack/tools.ts';
import { podinfoDeployment } from '../support/cluster.ts';

const run = promisify(execFile);
const cli = join(repoRoot, 'stack', 'cli.ts');
const state = mkdtempSync(join(tmpdir(), 'cutover-repair-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  CUTOVER_STATE_DIR: state,
  CUTOVER_TEMPORAL_PORT: '17235',
  CUTOVER_TEMPORAL_UI_PORT: '18235',
  CUTOVER_PROMETHEUS_PORT: '19095',
  CUTOVER_KUBE_APISERVER_PORT: '16445',
  // Off until the last test, so that what status reports and what `up` repairs can be seen.
  CUTOVER_STACK_SUPERVISE: '0',
};
for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'KUBECONFIG', 'PROMETHEUS_URL']) delete env[name];

async function stack(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env, timeout: 240_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? -1 };
  }
}

function clients(): { core: k8s.CoreV1Api; apps: k8s.AppsV1Api } {
  const config = new k8s.KubeConfig();
  config.loadFromFile(join(state, 'kubeconfig.yaml'));
  return { core: config.makeApiClient(k8s.CoreV1Api), apps: config.makeApiClient(k8s.AppsV1Api) };
}

function componentPid(name: string): number {
  const pid = clusterComponents(state)?.find((c) => c.name === name)?.pid;
  assert.ok(pid, `${name} runs`);
  return pid;
}

async function servedEndpoints(): Promise<string[]> {
  let endpoints: string[] = [];
  await waitFor(
    'two served podinfo pods',
    async () => {
      endpoints = readServiceMap(join(state, 'services.json'))['web.default']?.http?.endpoints ?? [];
      return endpoints.length === 2;
    },
    60_000,
  );
  return endpoints;
}

before(async () => {
  const up = await stack('up');
  assert.equal(up.code, 0, up.stderr);
  const { core, apps } = clients();
  await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'survivor' }, data: { kept: 'yes' } },
  });
  await apps.createNamespacedDeployment({
    namespace: 'default',
    body: podinfoDeployment('web', 'default', 2),
  });
  await core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  });
  await servedEndpoints();
});

after(async () => {
  await stack('down');
  rmSync(state, { recursive: true, force: true });
});

test('every process of the stack, podinfo pods included, listens on loopback only', () => {
  const processes = stackProcesses(state);
  const programs = processes.map((p) => p.commandLine);
  for (const program of [
    'etcd',
    'kube-apiserver',
    'kube-scheduler',
    'kwok-controller',
    'temporal',
    'prometheus',
    'podinfo',
  ])
    assert.ok(
      programs.some((c) => c.includes(`/${program} `)),
      `${program} is among the stack's processes`,
    );
  const exposed = processes.flatMap((p) =>
    listeningAddresses(p.pid)
      .filter((a) => !isLoopback(a))
      .map((a) => `${p.commandLine.slice(0, 60)} on ${a}`),
  );
  assert.deepEqual(exposed, [], 'nothing listens beyond loopback');
});

test('components that died are reported by status and restarted by up, with the data kept', async () => {
  const { core } = clients();
  const nodeUid = (await core.readNode({ name: 'kwok-node-0' })).metadata?.uid;
  const runnerPid = Number(readFileSync(join(state, 'pids', 'pod-runner.pid'), 'utf8'));
  const before = await servedEndpoints();
  process.kill(componentPid('kube-scheduler'), 'SIGKILL');
  process.kill(componentPid('kube-controller-manager'), 'SIGKILL');
  process.kill(runnerPid, 'SIGKILL'); // its podinfo processes stay behind, orphaned

  await waitFor(
    'the scheduler to be gone',
    async () => !clusterComponents(state)?.find((c) => c.name === 'kube-scheduler')?.running,
    10_000,
  );
  const status = await stack('status');
  assert.equal(status.code, 1, 'status fails while components are down');
  assert.match(
    status.stdout,
    /DOWN\s+kubernetes .*not running: .*kube-controller-manager.*kube-scheduler|DOWN\s+kubernetes .*not running: .*kube-scheduler/,
  );
  assert.match(status.stdout, /DOWN\s+pod-runner .*not running/);

  const up = await stack('up');
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /repairing the local cluster \(its data kept\): starting .*kube-scheduler/);
  assert.doesNotMatch(up.stderr, /rebuilding/);
  assert.equal((await core.readNode({ name: 'kwok-node-0' })).metadata?.uid, nodeUid, 'the same cluster');
  const kept = await core.readNamespacedConfigMap({ name: 'survivor', namespace: 'default' });
  assert.equal(kept.data?.kept, 'yes');
  for (const c of clusterComponents(state) ?? []) assert.ok(c.running, `${c.name} runs again`);
  // The new pod runner replaced the orphans: the pods are served by new processes.
  const afterRepair = await servedEndpoints();
  assert.notDeepEqual(afterRepair, before);
  const podinfos = stackProcesses(state).filter((p) => p.commandLine.includes('/podinfo '));
  assert.equal(podinfos.length, 2, 'no orphaned podinfo is left running');
});

test('an outdated cluster is rebuilt only when it must be, loudly, with its files kept aside', async () => {
  const layoutFile = join(state, 'cluster-layout.json');
  writeFileSync(layoutFile, JSON.stringify({ version: 1 }));
  const healthy = await stack('up');
  assert.match(healthy.stderr, /WARNING: the running cluster is outdated/, 'a running cluster is left alone');
  process.kill(componentPid('kube-apiserver'), 'SIGKILL');
  const up = await stack('up');
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /WARNING: rebuilding the local cluster EMPTY because it was made with layout 1/);
  const aside = join(state, 'kwok', 'set-aside');
  assert.equal(readdirSync(aside).length, 1);
  assert.ok(existsSync(join(aside, readdirSync(aside)[0] ?? '', 'etcd')), 'the old etcd data is kept');
  await assert.rejects(clients().core.readNamespacedConfigMap({ name: 'survivor', namespace: 'default' }));
});

test('the supervisor restarts a component that exits, without a `stack up`', async () => {
  delete env.CUTOVER_STACK_SUPERVISE;
  const up = await stack('up');
  assert.equal(up.code, 0, up.stderr);
  await waitFor('the supervisor', async () => existsSync(join(state, 'pids', 'supervisor.pid')), 10_000);
  const { core } = clients();
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'kept' } } });
  const scheduler = componentPid('kube-scheduler');
  const prometheus = Number(readFileSync(join(state, 'pids', 'prometheus.pid'), 'utf8'));
  process.kill(scheduler, 'SIGKILL');
  process.kill(prometheus, 'SIGKILL');
  await waitFor(
    'the scheduler and Prometheus to run again',
    async () => {
      const again = clusterComponents(state)?.find((c) => c.name === 'kube-scheduler');
      return Boolean(again?.running && again.pid !== scheduler) && (await stack('status')).code === 0;
    },
    60_000,
  );
  assert.ok(await core.readNamespacedConfigMap({ name: 'kept', namespace: 'default' }));
  assert.match(readFileSync(join(state, 'logs', 'supervisor.log'), 'utf8'), /restarting what exited/);

  const down = await stack('down');
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(stackProcesses(state), [], 'no process of the stack is left, the supervisor included');
});
