import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { clusterPortsFile } from '../../stack/cluster-ports.ts';
import { stackEndpoints } from '../../stack/endpoints.ts';
import { repoRoot } from '../../stack/tools.ts';

const run = promisify(execFile);

/** Processes whose command line, working directory or environment mention `marker`. */
function processesMentioning(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmdline.includes(marker) || cwd.includes(marker) || environ.includes(marker))
        found.push(`${pid} ${cmdline}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

function clusterPorts(stateDir: string): number[] {
  return Object.values(
    JSON.parse(readFileSync(clusterPortsFile(stateDir), 'utf8')) as Record<string, number>,
  );
}

const cli = join(repoRoot, 'stack', 'cli.ts');

/** The environment of a private stack in `state`, its four ports shifted by `offset`. */
function privateStack(state: string, offset: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CUTOVER_STATE_DIR: state,
    CUTOVER_TEMPORAL_PORT: String(17233 + offset),
    CUTOVER_TEMPORAL_UI_PORT: String(18233 + offset),
    CUTOVER_PROMETHEUS_PORT: String(19090 + offset),
    CUTOVER_KUBE_APISERVER_PORT: String(16443 + offset),
  };
  for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'KUBECONFIG', 'PROMETHEUS_URL'])
    delete env[name];
  return env;
}

test('stack up starts every component healthy on other ports, and stack down leaves no process behind', async () => {
  const state = mkdtempSync(join(tmpdir(), 'cutover-stack-'));
  const env = privateStack(state, 0);
  try {
    await run(process.execPath, [cli, 'up'], { env, timeout: 240_000 });
    const status = JSON.parse((await run(process.execPath, [cli, 'status', '--json'], { env })).stdout) as {
      components: { component: string; healthy: boolean }[];
    };
    assert.deepEqual(
      status.components.map((c) => [c.component, c.healthy]),
      [
        ['temporal', true],
        ['kubernetes', true],
        ['prometheus', true],
        ['pod-runner', true],
      ],
    );
    assert.ok(processesMentioning(state).length >= 4, 'the stack runs its processes');
    // This stack runs beside the suite's own: their clusters' inner ports never clash.
    const suite = stackEndpoints();
    if (!suite.external.kubernetes && existsSync(clusterPortsFile(suite.stateDir))) {
      const shared = clusterPorts(state).filter((p) => clusterPorts(suite.stateDir).includes(p));
      assert.deepEqual(shared, [], 'no cluster port is shared by the two stacks');
    }
  } finally {
    await run(process.execPath, [cli, 'down'], { env, timeout: 120_000 });
  }
  assert.deepEqual(processesMentioning(state), [], 'no process of the stack is left');
  const afterDown = await run(process.execPath, [cli, 'status'], { env }).catch(
    (error: { code: number }) => error,
  );
  assert.equal((afterDown as { code?: number }).code, 1, 'status reports the stack down');
  rmSync(state, { recursive: true, force: true });
});

test('two stacks started at the same moment both come up, on ports of their own', async () => {
  const states = [mkdtempSync(join(tmpdir(), 'cutover-twin-')), mkdtempSync(join(tmpdir(), 'cutover-twin-'))];
  const envs = states.map((state, i) => privateStack(state, 10 + i));
  try {
    await Promise.all(envs.map((env) => run(process.execPath, [cli, 'up'], { env, timeout: 240_000 })));
    for (const env of envs) await run(process.execPath, [cli, 'status'], { env }); // exits 1 if any is down
    const [a = [], b = []] = states.map(clusterPorts);
    assert.deepEqual(
      a.filter((p) => b.includes(p)),
      [],
      'no cluster port is shared',
    );
  } finally {
    await Promise.all(envs.map((env) => run(process.execPath, [cli, 'down'], { env, timeout: 120_000 })));
  }
  for (const state of states) {
    assert.deepEqual(processesMentioning(state), [], 'no process of either stack is left');
    rmSync(state, { recursive: true, force: true });
  }
});
