#!/usr/bin/env node
// The `cutover` command line (also `kubectl cutover`): one commander program over client/commands/,
// kubectl's global flags, and the rule that a user's mistake or an unreachable system is one sentence
// and an exit code, never a stack trace.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { styleText } from 'node:util';
import type * as k8s from '@kubernetes/client-node';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { Command as Commander } from 'commander';
import { CommanderError } from 'commander';
import { localKubeconfig, stackEndpoints } from '../stack/endpoints.ts';
import { temporalFailure } from './canary-lookup.ts';
import { abortCommand } from './commands/abort.ts';
import { approveCommand } from './commands/approve.ts';
import { baseProgram, defineCommand, parsedOf, splitCommand, usageError } from './commands/arguments.ts';
import type { EndpointDefaults, GlobalOptions, ParsedCommand } from './commands/arguments.ts';
import { CliError, ExitCode } from './commands/context.ts';
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
import { completionScript, completionShells } from './completion.ts';
import type { CompletionShell } from './completion.ts';
import { contextNamespace, defaultKubeconfig, loadKubeconfig } from './kubeconfig.ts';
import { temporalProfile } from './temporal-profile.ts';
import { workerCommand } from '../worker/config.ts';
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

export const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const footer = `A canary is NAME (in -n NAMESPACE, else the kubeconfig context's namespace, else default) or
NAMESPACE/NAME. -n is the Kubernetes namespace, as in kubectl; the Temporal namespace is
--temporal-namespace (--namespace used to mean Temporal's; scripts that meant that need
--temporal-namespace now).
Temporal's settings also come from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
TEMPORAL_TLS_*, TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE, as for the temporal CLI.

Exit codes: 0 ok; 1 watch: the rollout was not promoted; 2 canary not found; 3 no running rollout;
4 Temporal unreachable; 5 Kubernetes unreachable; 6 rollout not found; 7 refused (admission, RBAC or
the rollout); 8 no worker answered in time; 9 payload key missing or wrong; 64 usage.
`;

/** The whole program: every command with its flags, so help, suggestions and completion agree. */
function buildProgram(invokedAs: string): { program: Commander; byName: Map<string, Commander> } {
  const program = baseProgram(invokedAs)
    .description('durable blue/green rollouts for Kubernetes, run as Temporal workflows')
    .usage('COMMAND [NAME|NAMESPACE/NAME] [flags]')
    .version(version, '--version', 'print the version');
  const byName = new Map<string, Commander>();
  for (const command of commands) {
    const sub = defineCommand(program, command.name, command.options)
      .description(command.summary)
      .usage(command.usage.replace(/^cutover \S+ ?/, '') || '[flags]');
    byName.set(command.name, sub);
  }
  // The worker's own flags (worker/config.ts): `cutover worker --help` prints them with their variables.
  program.addCommand(
    workerCommand().description('run the Cutover worker (cutover worker --help for its flags)'),
  );
  program.command('completion').description('print shell completion: cutover completion bash|zsh');
  program.command('help').description('help for a command: cutover help COMMAND');
  return { program, byName };
}

function mainHelp(program: Commander): string {
  return `${program.helpInformation()}\n${footer}`;
}

function commandHelp(sub: Commander, command: Command): string {
  return `${sub.helpInformation()}${command.details ? `\n${command.details}\n` : ''}\n${footer}`;
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

/** `cutover:` in red on a terminal (never with NO_COLOR, nor into a pipe), then the one line. */
function problem(message: string, kind: 'error' | 'warning' = 'error'): string {
  const prefix = styleText(
    kind === 'error' ? 'red' : 'yellow',
    kind === 'error' ? 'cutover:' : 'cutover: warning:',
    {
      stream: process.stderr,
    },
  );
  return `${prefix} ${message}\n`;
}

/** Fewer retries than the SDK's default (about 30 s), so an unreachable Temporal is said in seconds. */
const cliRetries = makeGrpcRetryInterceptor(
  defaultGrpcRetryOptions({ maxAttempts: 3, maxIntervalMs: () => 1000 }),
);

function createContext(options: GlobalOptions): { ctx: CommandContext; close: () => Promise<void> } {
  let connection: Connection | undefined;
  let client: Promise<Client> | undefined;
  let kubeConfig: k8s.KubeConfig | undefined;
  const ctx: CommandContext = {
    options,
    stdout: stream(process.stdout),
    stderr: stream(process.stderr),
    now: () => new Date(),
    warn: (message) => void process.stderr.write(problem(message, 'warning')),
    temporal() {
      client ??= (async () => {
        // Read before connecting: a key ring that cannot be read is the user's to fix, not Temporal's.
        const dataConverter = clientDataConverter(
          loadKeyRing({
            env: process.env,
            ...(options.payloadKeyFile ? { file: options.payloadKeyFile } : {}),
          }),
        );
        const profile = temporalProfile(process.env);
        try {
          connection = await Connection.connect({
            ...profile.connection,
            address: options.address,
            connectTimeout: '5s',
            interceptors: [cliRetries],
          });
        } catch (error) {
          throw temporalFailure(options.address, error);
        }
        return new Client({ connection, namespace: options.temporalNamespace, dataConverter });
      })();
      return client;
    },
    kube() {
      kubeConfig ??= loadKubeconfig(options.kubeconfig, options.context);
      return kubeConfig;
    },
    defaultNamespace() {
      if (options.namespace !== undefined) return options.namespace;
      try {
        return contextNamespace(ctx.kube());
      } catch {
        // No kubeconfig: kubectl's default, and the command says what it cannot reach when it tries.
        return 'default';
      }
    },
  };
  return { ctx, close: async () => connection?.close() };
}

/** The defaults: kubectl's kubeconfig resolution, and Temporal's environment and profile. */
function endpointDefaults(): EndpointDefaults {
  const stack = stackEndpoints();
  const profile = temporalProfile(process.env);
  return {
    temporalAddress: profile.address ?? stack.temporalAddress,
    temporalNamespace: profile.namespace ?? stack.temporalNamespace,
    temporalUiUrl: stack.temporalUiUrl,
    kubeconfig: defaultKubeconfig({
      env: process.env,
      home: process.env.HOME || homedir(),
      localStack: localKubeconfig(),
    }),
  };
}

async function runWorkerCommand(rest: string[]): Promise<number> {
  // Someone else's command, loaded only when asked for: the others never pay for the worker.
  const workerMain = new URL('../worker/main.ts', import.meta.url);
  if (!existsSync(workerMain)) {
    process.stderr.write(problem(`the worker is not part of this build (${workerMain.pathname} is missing)`));
    return ExitCode.usage;
  }
  const { runWorker } = (await import(workerMain.href)) as { runWorker(argv: string[]): Promise<number> };
  return runWorker(rest);
}

/** `kubectl cutover` runs bin/kubectl-cutover: help and errors name the command as typed. */
function invokedName(): string {
  return process.env.CUTOVER_INVOKED_AS === 'kubectl-cutover' ? 'kubectl cutover' : 'cutover';
}

/** Runs the command line; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const { command: name, rest } = splitCommand(argv);
  if (name === 'worker') return runWorkerCommand(rest);
  const invokedAs = invokedName();
  const { program, byName } = buildProgram(invokedAs);
  let close = async (): Promise<void> => undefined;
  let address = '';
  try {
    if (name === undefined && rest.includes('--version')) {
      process.stdout.write(`${version}\n`);
      return 0;
    }
    if (name === undefined || name === 'help') {
      const topic = rest.find((a) => !a.startsWith('-'));
      if (topic === 'worker') return runWorkerCommand(['--help']);
      const command = commands.find((c) => c.name === topic);
      const sub = topic === undefined ? undefined : byName.get(topic);
      if (topic !== undefined && (!command || !sub)) {
        throw new CliError(ExitCode.usage, `no command "${topic}": ${invokedAs} --help lists them`);
      }
      process.stdout.write(command && sub ? commandHelp(sub, command) : mainHelp(program));
      return name === undefined && !rest.includes('--help') && !rest.includes('-h') ? ExitCode.usage : 0;
    }
    if (name === 'completion') return completion(rest, program);
    try {
      program.parse([...argv], { from: 'user' });
    } catch (error) {
      if (error instanceof CommanderError) {
        if (error.code === 'commander.version') {
          process.stdout.write(`${version}\n`);
          return 0;
        }
        const known = byName.has(name);
        throw usageError(
          error,
          known ? `${invokedAs} ${name} --help lists its flags` : `${invokedAs} --help lists the commands`,
        );
      }
      throw error;
    }
    const command = commands.find((c) => c.name === name);
    const sub = byName.get(name);
    if (!command || !sub)
      throw new CliError(ExitCode.usage, `unknown command "${name}": ${invokedAs} --help lists them`);
    const parsed: ParsedCommand<typeof command.options> = parsedOf(
      program,
      sub,
      command.options,
      endpointDefaults(),
    );
    if (parsed.help) {
      process.stdout.write(commandHelp(sub, command));
      return 0;
    }
    address = parsed.globals.address;
    const context = createContext(parsed.globals);
    close = context.close;
    return await command.run(context.ctx, parsed);
  } catch (error) {
    const failure = address ? temporalFailure(address, error) : error;
    if (failure instanceof PayloadCodecError) {
      process.stderr.write(problem(failure.message));
      return ExitCode.payloadKey;
    }
    if (failure instanceof CliError) {
      process.stderr.write(problem(failure.message));
      return failure.exitCode;
    }
    // A bug, not a user error: still one line, and the stack only when asked for (CUTOVER_DEBUG=1).
    const bug = failure instanceof Error ? failure : new Error(String(failure));
    process.stderr.write(
      problem(
        `unexpected error: ${bug.message.split('\n')[0]}${process.env.CUTOVER_DEBUG ? `\n${bug.stack}` : ' (CUTOVER_DEBUG=1 shows where)'}`,
      ),
    );
    return 70;
  } finally {
    await close().catch(() => undefined);
  }
}

function completion(rest: readonly string[], program: Commander): number {
  const shell = rest.find((a) => !a.startsWith('-'));
  if (!completionShells.includes(shell as CompletionShell)) {
    throw new CliError(ExitCode.usage, `completion needs a shell: ${completionShells.join(' or ')}`);
  }
  const flagsOf = (command: Commander): string[] =>
    command.options
      .filter((o) => !o.hidden)
      .flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
  const globalFlags = flagsOf(program);
  const words = {
    commands: program.commands.map((c) =>
      c.name() === 'worker'
        ? { name: 'worker', flags: flagsOf(c), globals: false }
        : { name: c.name(), flags: flagsOf(c).filter((f) => !globalFlags.includes(f)) },
    ),
    globalFlags,
  };
  process.stdout.write(completionScript(shell as CompletionShell, words));
  return 0;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
