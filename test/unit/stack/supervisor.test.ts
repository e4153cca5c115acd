import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StackEndpoints } from '../../../stack/endpoints.ts';
import { ProcessTable } from '../../../stack/processes.ts';
import { exitedComponents, supervise } from '../../../stack/supervisor.ts';
import type { Watched } from '../../../stack/supervisor.ts';

function endpointsIn(stateDir: string, external = false): StackEndpoints {
  return {
    stateDir,
    temporalAddress: '127.0.0.1:1',
    temporalUiUrl: 'http://127.0.0.1:2',
    temporalNamespace: 'default',
    kubeconfig: join(stateDir, 'kubeconfig.yaml'),
    prometheusUrl: 'http://127.0.0.1:3',
    servicesFile: join(stateDir, 'services.json'),
    external: { temporal: external, kubernetes: external, prometheus: external },
  };
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

test('a component counts as exited when its pid file outlived its process; a stopped one does not', () => {
  const state = mkdtempSync(join(tmpdir(), 'cutover-supervisor-'));
  try {
    const processes = new ProcessTable(state);
    writeFileSync(join(processes.dir, 'temporal.pid'), String(deadPid()));
    writeFileSync(join(processes.dir, 'prometheus.pid'), String(process.pid));
    // pod-runner: no pid file, as after `stack down`
    assert.deepEqual(exitedComponents(endpointsIn(state), processes), [
      { component: 'temporal', what: ['temporal'] },
    ]);
    assert.deepEqual(exitedComponents(endpointsIn(state, true), processes), [], 'external ones are not ours');
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test('the supervisor restarts what exited, backs off while that fails, and ends when nothing is wanted', async () => {
  const state = mkdtempSync(join(tmpdir(), 'cutover-supervisor-'));
  try {
    const processes = new ProcessTable(state);
    const pidFile = join(processes.dir, 'prometheus.pid');
    writeFileSync(pidFile, String(deadPid()));
    const calls: { at: number; components: Watched[] }[] = [];
    const began = Date.now();
    await supervise(endpointsIn(state), processes, {
      intervalMs: 20,
      log: () => undefined,
      restart: async (components) => {
        calls.push({ at: Date.now() - began, components });
        if (calls.length < 3) throw new Error('port in use');
        rmSync(pidFile); // as `stack down` would: nothing is wanted any more
      },
    });
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[0]?.components, ['prometheus']);
    const gaps = calls.slice(1).map((c, i) => c.at - (calls[i]?.at ?? 0));
    assert.ok((gaps[1] ?? 0) > (gaps[0] ?? 0), `retries slow down (${gaps.join(', ')} ms apart)`);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
