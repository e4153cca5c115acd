// The real `cutover worker` process, started the way a user starts it, for end-to-end tests: its own
// task queue and watched namespace, so it only acts on the test's canaries.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../stack/tools.ts';
import { freeLocalPort } from '../../stack/tcp-proxy.ts';
import { endpoints } from './cluster.ts';

export interface WorkerProcess {
  metricsUrl: string;
  /** The process id: the worker's Temporal identity is `<pid>@<host>`. */
  pid: number | undefined;
  /** Not exited (nor killed). */
  alive(): boolean;
  logs(): string;
  /** SIGTERM and wait: a graceful shutdown. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

export async function startWorkerProcess(options: {
  namespace: string;
  taskQueue: string;
  extraArgs?: string[];
}): Promise<WorkerProcess> {
  const port = await freeLocalPort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repoRoot, 'client', 'cli.ts'),
      'worker',
      '--watch-namespace',
      options.namespace,
      '--task-queue',
      options.taskQueue,
      '--min-interval',
      '100ms',
      '--metrics-port',
      String(port),
      '--metrics-address',
      '127.0.0.1',
      '--shutdown-grace',
      '5s',
      ...(options.extraArgs ?? []),
    ],
    {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: endpoints.temporalAddress,
        TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
        KUBECONFIG: endpoints.kubeconfig,
        PROMETHEUS_URL: endpoints.prometheusUrl,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metricsUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cutover worker exited early:\n${output}`);
    const healthy = await fetch(`${metricsUrl}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (healthy && output.includes('revision watcher started')) break;
    if (Date.now() > deadline) throw new Error(`cutover worker did not become healthy:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    metricsUrl,
    pid: child.pid,
    alive: () => child.exitCode === null && child.signalCode === null,
    logs: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
