// Entry point of the supervisor process that `stack up` starts in the background:
// `node stack/supervisor-main.ts --state-dir DIR` (see supervisor.ts).
import { parseArgs } from 'node:util';
import { stackEndpoints } from './endpoints.ts';
import { ProcessTable } from './processes.ts';
import { restartExited } from './stack.ts';
import { supervise } from './supervisor.ts';

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

log('supervising', { stateDir: endpoints.stateDir });
await supervise(endpoints, new ProcessTable(endpoints.stateDir), {
  restart: (components) => restartExited(components, endpoints),
  log,
  signal: stop.signal,
});
process.exit(0);
