// What every command gets: the global options, lazily opened Temporal and Kubernetes clients, the
// output streams, and one error type whose exit code and sentence are what the user sees.
import type { Client } from '@temporalio/client';
import type { KubeConfig } from '@kubernetes/client-node';
import type { FlagSpecs, GlobalOptions, ParsedCommand } from './arguments.ts';

/** Exit codes, documented in `cutover --help`. */
export const ExitCode = {
  ok: 0,
  /** `watch`: the rollout ended without promoting (rolled back, failed, superseded with no successor). */
  notPromoted: 1,
  canaryNotFound: 2,
  noRunningRollout: 3,
  temporalUnreachable: 4,
  kubernetesUnreachable: 5,
  /** The rollout, run or workflow asked for does not exist. */
  rolloutNotFound: 6,
  /** A steering action was refused: by the admission policy, RBAC, or the rollout itself. */
  refused: 7,
  /** A RolloutAction was created, but no worker settled it in time (`--wait`). */
  noAnswer: 8,
  /** Payloads are encrypted and the key ring is missing, cannot be read, or lacks their key id. */
  payloadKey: 9,
  usage: 64,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A user-facing failure: printed as one sentence, never as a stack trace. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export interface Output {
  write(text: string): void;
  readonly isTTY: boolean;
  readonly columns?: number;
}

export interface CommandContext {
  options: GlobalOptions;
  stdout: Output;
  stderr: Output;
  /** Connects on first use; an unreachable server is a CliError naming the address. */
  temporal(): Promise<Client>;
  /** Loads the kubeconfig on first use; a missing file is a CliError naming it. */
  kube(): KubeConfig;
  /** `-n`, else the kubeconfig context's namespace, else `default` (kubectl's rule); reads no network. */
  defaultNamespace(): string;
  /** A warning on stderr: one line, `cutover: warning: …` (coloured on a terminal). */
  warn(message: string): void;
  now(): Date;
}

export function temporalUnreachable(address: string, cause: string): CliError {
  return new CliError(
    ExitCode.temporalUnreachable,
    `cannot reach Temporal at ${address} (${cause}): start it, or point --address / TEMPORAL_ADDRESS at your frontend`,
  );
}

export function kubernetesUnreachable(server: string, kubeconfig: string, cause: string): CliError {
  return new CliError(
    ExitCode.kubernetesUnreachable,
    `cannot reach the Kubernetes API at ${server} (${cause}): check the cluster, or point --kubeconfig / KUBECONFIG (now ${kubeconfig}) at it`,
  );
}

/** One subcommand: its flags (beyond the global ones), its help, and what it does. */
export interface Command<O extends FlagSpecs = FlagSpecs> {
  name: string;
  usage: string;
  summary: string;
  /** Extra help lines after the usage. */
  details?: string;
  options: O;
  run(ctx: CommandContext, parsed: ParsedCommand<O>): Promise<number>;
}

/** Prints data as one JSON document (json) or the rendered text. */
export function print(ctx: CommandContext, data: unknown, text: () => string): void {
  ctx.stdout.write(ctx.options.output === 'json' ? JSON.stringify(data, null, 2) + '\n' : text());
}

/**
 * A Kubernetes read the command can do without (the canary's existence, before a Temporal-only
 * action): an unreachable API server is a warning naming what is skipped, and `undefined`.
 */
export async function unlessKubernetesDown<T>(
  ctx: CommandContext,
  read: () => Promise<T>,
  skipped: string,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== ExitCode.kubernetesUnreachable) throw error;
    ctx.warn(`${error.message}; ${skipped}`);
    return undefined;
  }
}
