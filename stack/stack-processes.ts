// Every process that belongs to one stack, found from /proc rather than from pid files: a component
// that crashed, a cluster that was rebuilt or a pod runner killed with -9 leaves processes whose pid
// files are gone or stale, and `stack down` must still find and stop them. A process belongs to the
// stack when it is one of the stack's programs and its command line names a path inside the state
// directory (every component is started with one: data dirs, config files, `--state-dir`), or when it
// runs in a pod's working directory. A `kubectl --kubeconfig <state dir>/…` of the user's is not one.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isAlive, sleep } from './processes.ts';

/** The programs the stack runs, besides its own Node processes (which carry `--state-dir`). */
const componentPrograms = new Set([
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok-controller',
  'temporal',
  'prometheus',
  'podinfo',
]);

export interface StackProcess {
  pid: number;
  commandLine: string;
}

/** The pids of this process and its ancestors, which are never counted (a test may run inside). */
function selfAndAncestors(): Set<number> {
  const pids = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return pids;
}

export function stackProcesses(stateDir: string): StackProcess[] {
  const inside = `${stateDir.replace(/\/+$/, '')}/`;
  const podsDir = join(inside, 'pods');
  const exclude = selfAndAncestors();
  const found: StackProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (exclude.has(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length === 0) continue; // a zombie or kernel thread
      const commandLine = argv.join(' ');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const program = componentPrograms.has(basename(argv[0] ?? ''));
      const stateDirArg = argv.some((a, i) => a === '--state-dir' && `${argv[i + 1] ?? ''}/` === inside);
      if (stateDirArg || (program && commandLine.includes(inside)) || cwd.startsWith(`${podsDir}/`))
        found.push({ pid, commandLine });
    } catch {
      // the process ended while we looked, or is not ours to read
    }
  }
  return found;
}

/** Stops the given processes: SIGTERM, then SIGKILL for any still alive after `graceMs`. */
export async function stopProcesses(processes: StackProcess[], graceMs = 5000): Promise<void> {
  const signal = (pid: number, name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  for (const p of processes) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (processes.some((p) => isAlive(p.pid)) && Date.now() < deadline) await sleep(100);
  for (const p of processes) if (isAlive(p.pid)) signal(p.pid, 'SIGKILL');
  while (processes.some((p) => isAlive(p.pid))) await sleep(50);
}
