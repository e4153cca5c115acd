#!/usr/bin/env node
// The `cutover` command line: one dispatcher over client/commands/, global flags, and the rule that
// a user's mistake or an unreachable system is one sentence and an exit code, never a stack trace.
import { existsSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { stackEndpoints } from '../stack/endpoints.ts';
import { temporalFailure } from './canary-lookup.ts';
import { abortCommand } from './commands/abort.ts';
import { approveCommand } from './commands/approve.ts';
import { parseCommand, splitCommand } from './commands/arguments.ts';
import type { GlobalOptions } from './commands/arguments.ts';
import { CliError, ExitCode, kubernetesUnreachable } from './commands/context.ts';
import type { Command, CommandContext, Output } from './commands/context.ts';
import { historyCommand } from './commands/history.ts';
import { listCommand } from './commands/list.ts';
import { pauseCommand } from './commands/pause.ts';
import { promoteCommand } from './commands/promote.ts';
import { resumeCommand } from './commands/resume.ts';
import { retryCommand } from './commands/retry.ts';
import { rollbackCommand } from './commands/rollback.ts';
import { statusCommand } from './commands/status.ts';
import { undoCommand } from './commands/undo.ts';
import { watchCommand } from './commands/watch.ts';
import { codecServerCommand } from './commands/codec-server.ts';
import { clientDataConverter } from '../worker/data-converter.ts';
import { PayloadCodecError, loadKeyRing } from '../worker/payload-codec.ts';

export const commands: readonly Command[] = [
  listCommand,
  statusCommand,
  watchCommand,
  promoteCommand,
  abortCommand,
  approveCommand,
  pauseCommand,
  resumeCommand,
  retryCommand,
  rollbackCommand,
  undoCommand,
  historyCommand,
  codecServerCommand,
];

const globalHelp = `Global flags:
  -o, --output text|json   output format (default text)
  --address HOST:PORT      Temporal frontend (default $TEMPORAL_ADDRESS, else the local stack's)
  --namespace NAME         Temporal namespace (default $TEMPORAL_NAMESPACE, else default)
  --ui-url URL             Temporal UI, for links (default $TEMPORAL_UI_URL, else the local stack's)
  --kubeconfig FILE        cluster (default $KUBECONFIG, else the local stack's)
  --payload-key-file FILE  key ring for encrypted payloads (default $CUTOVER_PAYLOAD_KEYS_FILE,
                           else $CUTOVER_PAYLOAD_KEYS, else none)
  -h, --help               this help

Exit codes: 0 ok; 1 watch: the rollout was not promoted; 2 canary not found; 3 no running rollout;
4 Temporal unreachable; 5 Kubernetes unreachable; 6 rollout not found; 7 refused (admission, RBAC or
the rollout); 8 no worker answered in time; 9 payload key missing or wrong; 64 usage.
`;

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 'worker'.length);
  return [
    'cutover: durable blue/green rollouts for Kubernetes, run as Temporal workflows\n',
    'Usage: cutover COMMAND [flags]\n',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'worker'.padEnd(width)}  run the Cutover worker (revision watcher and rollouts)`,
    '',
    globalHelp,
  ].join('\n');
}

function commandHelp(command: Command): string {
  return `Usage: ${command.usage}\n\n${command.summary}\n${command.details ? `\n${command.details}\n` : ''}\n${globalHelp}`;
}

function stream(s: NodeJS.WriteStream): Output {
  return {
    write: (text) => void s.write(text),
    get isTTY() {
      return s.isTTY === true;
    },
    get columns() {
      return s.columns;
    },
  };
}

function createContext(options: GlobalOptions): { ctx: CommandContext; close: () => Promise<void> } {
  let connection: Connection | undefined;
  let client: Promise<Client> | undefined;
  let kubeConfig: k8s.KubeConfig | undefined;
  const ctx: CommandContext = {
    options,
    stdout: stream(process.stdout),
    stderr: stream(process.stderr),
    now: () => new Date(),
    temporal() {
      client ??= (async () => {
        // Read before connecting: a key ring that cannot be read is the user's to fix, not Temporal's.
        const dataConverter = clientDataConverter(
          loadKeyRing({
            env: process.env,
            ...(options.payloadKeyFile ? { file: options.payloadKeyFile } : {}),
          }),
        );
        try {
          connection = await Connection.connect({ address: options.address, connectTimeout: '5s' });
        } catch (error) {
          throw temporalFailure(options.address, error);
        }
        return new Client({ connection, namespace: options.namespace, dataConverter });
      })();
      return client;
    },
    kube() {
      if (!kubeConfig) {
        if (!existsSync(options.kubeconfig)) {
          throw kubernetesUnreachable(
            '(no cluster)',
            options.kubeconfig,
            'the kubeconfig file does not exist',
          );
        }
        const config = new k8s.KubeConfig();
        config.loadFromFile(options.kubeconfig);
        kubeConfig = config;
      }
      return kubeConfig;
    },
  };
  return { ctx, close: async () => connection?.close() };
}

/** Runs the command line; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const { command: name, rest } = splitCommand(argv);
  if (name === 'worker') {
    // Someone else's command, loaded only when asked for: the others never pay for the worker.
    const workerMain = new URL('../worker/main.ts', import.meta.url);
    if (!existsSync(workerMain)) {
      process.stderr.write(
        `cutover: the worker is not part of this build (${workerMain.pathname} is missing)\n`,
      );
      return ExitCode.usage;
    }
    const { runWorker } = (await import(workerMain.href)) as { runWorker(argv: string[]): Promise<number> };
    return runWorker(rest);
  }
  let close = async (): Promise<void> => undefined;
  let address = '';
  try {
    if (name === undefined || name === 'help') {
      const topic = commands.find((c) => c.name === rest.find((a) => !a.startsWith('-')));
      process.stdout.write(topic ? commandHelp(topic) : mainHelp());
      return name === undefined && !rest.includes('--help') && !rest.includes('-h') ? ExitCode.usage : 0;
    }
    const command = commands.find((c) => c.name === name);
    if (!command) throw new CliError(ExitCode.usage, `unknown command "${name}": cutover --help lists them`);
    const parsed = parseCommand(rest, command.options, stackEndpoints());
    if (parsed.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    address = parsed.globals.address;
    const context = createContext(parsed.globals);
    close = context.close;
    return await command.run(context.ctx, parsed);
  } catch (error) {
    const failure = address ? temporalFailure(address, error) : error;
    if (failure instanceof PayloadCodecError) {
      process.stderr.write(`cutover: ${failure.message}\n`);
      return ExitCode.payloadKey;
    }
    if (failure instanceof CliError) {
      process.stderr.write(`cutover: ${failure.message}\n`);
      return failure.exitCode;
    }
    // A bug, not a user error: keep the stack for the report.
    process.stderr.write(`cutover: unexpected error: ${(failure as Error).stack ?? String(failure)}\n`);
    return 70;
  } finally {
    await close().catch(() => undefined);
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
