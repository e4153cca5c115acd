// Background processes of the local stack: started detached with their output in a log file and their
// pid in a file, so `stack down` (a different process) can find and stop every one of them.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class ProcessTable {
  readonly dir: string;
  readonly logDir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'pids');
    this.logDir = join(stateDir, 'logs');
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
  }

  logPath(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  start(spec: ProcessSpec): number {
    const log = openSync(this.logPath(spec.name), 'a');
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    child.unref();
    writeFileSync(join(this.dir, `${spec.name}.pid`), String(child.pid));
    return child.pid;
  }

  pid(name: string): number | undefined {
    const file = join(this.dir, `${name}.pid`);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
  }

  names(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => f.slice(0, -4));
  }

  /** The recorded pid, alive or not (its process group may outlive it). */
  recordedPid(name: string): number | undefined {
    const file = join(this.dir, `${name}.pid`);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  }

  /**
   * Stops the process group (the process and anything it spawned) and forgets it. The group is
   * signalled even when its leader is gone: children of a crashed pod runner still carry its group.
   */
  async stop(name: string, graceMs = 10_000): Promise<void> {
    const pid = this.recordedPid(name);
    if (pid !== undefined) await stopGroup(pid, graceMs);
    rmSync(join(this.dir, `${name}.pid`), { force: true });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc here: trust the signal
  }
}

/** Every process the stack starts leads its own group (spawned detached), so its pid is the group's id. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the whole group is gone
  }
}

/** Whether any live (non-zombie) process is in the group `pgid`. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
      } catch {
        // gone while we looked
      }
    }
    return false;
  } catch {
    return isAlive(pgid);
  }
}

export async function stopGroup(pid: number, graceMs: number): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5000;
  while (groupAlive(pid) && Date.now() < killDeadline) await sleep(50);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or the deadline passes; the error names what was awaited. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
}
