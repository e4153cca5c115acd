// `cutover ARGS` run as a user runs it: a child process (`node client/cli.ts …`) pointed at the stack by
// the environment (the caller's own CUTOVER_USER left out), answering with the exit code and both streams.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { endpoints } from './cluster.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCutover(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const { CUTOVER_USER: _callersIdentity, ...inherited } = process.env;
  const child = spawn(process.execPath, ['client/cli.ts', ...args], {
    cwd: repo,
    env: {
      ...inherited,
      TEMPORAL_ADDRESS: endpoints.temporalAddress,
      TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
      KUBECONFIG: endpoints.kubeconfig,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
