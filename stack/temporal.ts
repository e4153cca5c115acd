// The Temporal dev server of the local stack: the real `temporal` CLI built from the Go module proxy,
// with its UI, a persistence file (a restart keeps running rollouts) and Cutover's search attributes.
import { Connection } from '@temporalio/client';
import { join } from 'node:path';
import type { ProcessTable } from './processes.ts';
import { waitFor } from './processes.ts';
import { cutoverSearchAttributes } from '../workflows/search-attributes.ts';
import { localPorts } from './endpoints.ts';
import { toolPath } from './tools.ts';

export async function temporalHealthy(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1000 });
    const response = await connection.healthService.check({});
    return response.status === 1; // SERVING
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

export async function startTemporal(processes: ProcessTable, stateDir: string): Promise<void> {
  const address = `127.0.0.1:${localPorts.temporal}`;
  if (await temporalHealthy(address)) return;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(localPorts.temporal),
    '--ui-port',
    String(localPorts.temporalUi),
    '--db-filename',
    join(stateDir, 'temporal.db'),
    '--log-level',
    'warn',
    // Timers here are often sub-second (tests run whole rollouts with such intervals); the default
    // lets a short timer fire up to a second late.
    '--dynamic-config-value',
    'history.timerProcessorMaxTimeShift="50ms"',
  ];
  for (const [name, type] of Object.entries(cutoverSearchAttributes)) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  processes.start({ name: 'temporal', command: toolPath('temporal'), args });
  await waitFor(`Temporal dev server on ${address}`, () => temporalHealthy(address), 60_000);
}
