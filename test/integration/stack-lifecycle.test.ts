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

test('stack up starts every component healthy on other ports, and stack down leaves no process behind', async () => {
  const state = mkdtempSync(join(tmpdir(), 'cutover-stack-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CUTOVER_STATE_DIR: state,
    CUTOVER_TEMPORAL_PORT: '17233',
    CUTOVER_TEMPORAL_UI_PORT: '18233',
    CUTOVER_PROMETHEUS_PORT: '19090',
    CUTOVER_KUBE_APISERVER_PORT: '16443',
  };
  for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'KUBECONFIG', 'PROMETHEUS_URL'])
    delete env[name];
  const cli = join(repoRoot, 'stack', 'cli.ts');
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
