// The stack's supervisor: a small background process that notices a component of the stack that
// exited (a crash, an OOM kill, a `kill -9`) and starts it again, the way `stack up` would, keeping
// its data. Only components that were started and not stopped on purpose are watched: `stack down`
// removes their pid files (and the cluster), so nothing it stopped comes back.
import { existsSync } from 'node:fs';
import { clusterComponents, clusterDir } from './cluster-components.ts';
import type { StackEndpoints } from './endpoints.ts';
import type { ProcessTable } from './processes.ts';
import { sleep } from './processes.ts';

/** Set to 0 to run a stack without its supervisor (the components are then only reported by `status`). */
export const superviseVariable = 'CUTOVER_STACK_SUPERVISE';

export type Watched = 'temporal' | 'kubernetes' | 'prometheus' | 'pod-runner';

export interface Exited {
  component: Watched;
  /** What exited: the component itself, or the cluster's inner processes. */
  what: string[];
}

/** The components that were started and whose process (or one of the cluster's) is gone. */
export function exitedComponents(endpoints: StackEndpoints, processes: ProcessTable): Exited[] {
  const exited: Exited[] = [];
  const own: [Watched, boolean][] = [
    ['temporal', endpoints.external.temporal],
    ['prometheus', endpoints.external.prometheus],
    ['pod-runner', endpoints.external.kubernetes],
  ];
  for (const [component, external] of own) {
    if (external) continue;
    if (processes.recordedPid(component) !== undefined && processes.pid(component) === undefined)
      exited.push({ component, what: [component] });
  }
  if (!endpoints.external.kubernetes) {
    const stopped = (clusterComponents(endpoints.stateDir) ?? []).filter((c) => !c.running);
    if (stopped.length > 0) exited.push({ component: 'kubernetes', what: stopped.map((c) => c.name) });
  }
  return exited;
}

/** Whether anything of the stack is still meant to run. */
function anythingWanted(endpoints: StackEndpoints, processes: ProcessTable): boolean {
  const own = processes.names().filter((n) => n !== 'supervisor');
  return own.length > 0 || existsSync(clusterDir(endpoints.stateDir));
}

export interface SuperviseOptions {
  /** Restarts the given components; throws when that failed or could not happen now. */
  restart: (components: Watched[]) => Promise<void>;
  log: (message: string, fields?: Record<string, unknown>) => void;
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Watches until nothing of the stack is wanted any more (or `signal` aborts). */
export async function supervise(
  endpoints: StackEndpoints,
  processes: ProcessTable,
  options: SuperviseOptions,
): Promise<void> {
  const interval = options.intervalMs ?? 2000;
  let failures = 0;
  while (!options.signal?.aborted && anythingWanted(endpoints, processes)) {
    const exited = exitedComponents(endpoints, processes);
    if (exited.length > 0) {
      options.log('restarting what exited', { exited });
      try {
        await options.restart(exited.map((e) => e.component));
        options.log('restarted', { components: exited.map((e) => e.component) });
        failures = 0;
      } catch (error) {
        failures++;
        options.log('restart failed; trying again later', {
          error: error instanceof Error ? error.message : String(error),
          failures,
        });
      }
    }
    // A component that keeps failing to start is retried ever more slowly, up to once a minute.
    await sleep(Math.min(60_000, interval * 2 ** Math.min(failures, 5)));
  }
  options.log('nothing left to supervise');
}
