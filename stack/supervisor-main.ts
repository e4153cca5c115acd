// Entry point of the supervisor process that `stack up` starts in the background:
// `node stack/supervisor-main.ts --state-dir DIR` (see supervisor.ts).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { stackEndpoints } from './endpoints.ts';
import { ProcessTable } from './processes.ts';
import { supervise } from './supervisor.ts';
import { repoRoot } from './tools.ts';

const run = promisify(execFile);

const { values } = parseArgs({ options: { 'state-dir': { type: 'string' } } });
if (values['state-dir'] !== undefined) process.env.CUTOVER_STATE_DIR = values['state-dir'];
const endpoints = stackEndpoints();
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop.abort());

function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'supervisor', message, ...fields })}\n`,
  );
}

/**
 * Restarts in a child process (`stack restart-exited`), so this process never loads the stack's
 * start-up code and its Kubernetes and Temporal clients: it stays under 100 MiB.
 */
async function restartInChild(components: string[]): Promise<void> {
  const cli = join(repoRoot, 'stack', 'cli.ts');
  try {
    const { stderr } = await run(process.execPath, [cli, 'restart-exited', ...components], {
      env: { ...process.env, CUTOVER_STATE_DIR: endpoints.stateDir },
      timeout: 300_000,
    });
    if (stderr.trim()) log('restart said', { output: stderr.trim().split('\n') });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(stderr ? stderr.split('\n').slice(-3).join(' | ') : String(error));
  }
}

log('supervising', { stateDir: endpoints.stateDir });
await supervise(endpoints, new ProcessTable(endpoints.stateDir), {
  restart: (components) => restartInChild(components),
  log,
  signal: stop.signal,
});
process.exit(0);
