// The command line's grammar, pure so that unit tests can pin it down: global flags anywhere, the
// command as the first word, `NS/NAME` (or `NAME -n NS`) for a canary, and who is steering.
import { parseArgs } from 'node:util';
import type { ParseArgsOptionsConfig } from 'node:util';
import { CliError, ExitCode } from './context.ts';

export type OutputFormat = 'text' | 'json';

export interface GlobalOptions {
  output: OutputFormat;
  /** Temporal frontend host:port. */
  address: string;
  /** Temporal namespace. */
  namespace: string;
  /** Temporal UI base URL, for links. */
  uiUrl: string;
  kubeconfig: string;
  /** The payload key ring file (`--payload-key-file`); absent = CUTOVER_PAYLOAD_KEYS(_FILE), else none. */
  payloadKeyFile?: string;
}

/** Where the defaults come from: `stackEndpoints()`, i.e. the environment or the local stack. */
export interface EndpointDefaults {
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string;
  kubeconfig: string;
}

export const globalOptions = {
  output: { type: 'string', short: 'o' },
  address: { type: 'string' },
  namespace: { type: 'string' },
  'ui-url': { type: 'string' },
  kubeconfig: { type: 'string' },
  'payload-key-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** Splits off the command: the first word that is neither a flag nor the value of a global flag. */
export function splitCommand(argv: readonly string[]): { command?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (token === '--') break;
    if (token.startsWith('-')) {
      if (takesValue(token)) i++;
      continue;
    }
    return { command: token, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: undefined, rest: [...argv] };
}

function takesValue(flag: string): boolean {
  if (flag.includes('=')) return false;
  if (flag.startsWith('--')) {
    const option = globalOptions[flag.slice(2) as keyof typeof globalOptions] as { type: string } | undefined;
    return option?.type === 'string';
  }
  return flag === '-o';
}

export type ValueOf<O extends ParseArgsOptionsConfig> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string;
};

export interface ParsedCommand<O extends ParseArgsOptionsConfig> {
  globals: GlobalOptions;
  values: ValueOf<O>;
  positionals: string[];
  help: boolean;
}

/** Parses one command's arguments (global flags included), strictly: an unknown flag is a usage error. */
export function parseCommand<O extends ParseArgsOptionsConfig>(
  args: readonly string[],
  options: O,
  defaults: EndpointDefaults,
): ParsedCommand<O> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...globalOptions, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new CliError(ExitCode.usage, (error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const text = (key: string): string | undefined => {
    const value = values[key];
    return typeof value === 'string' ? value : undefined;
  };
  const output = text('output') ?? 'text';
  if (output !== 'text' && output !== 'json') {
    throw new CliError(ExitCode.usage, `--output must be text or json, not "${output}"`);
  }
  return {
    globals: {
      output,
      address: text('address') ?? defaults.temporalAddress,
      namespace: text('namespace') ?? defaults.temporalNamespace,
      uiUrl: (text('ui-url') ?? defaults.temporalUiUrl).replace(/\/+$/, ''),
      kubeconfig: text('kubeconfig') ?? defaults.kubeconfig,
      ...(text('payload-key-file') === undefined ? {} : { payloadKeyFile: text('payload-key-file') }),
    },
    values: values as ValueOf<O>,
    positionals: parsed.positionals,
    help: values.help === true,
  };
}

/** `-n NAMESPACE`: the Kubernetes namespace, as in kubectl (`--namespace` is Temporal's). */
export const canaryNamespaceOption = {
  'canary-namespace': { type: 'string', short: 'n' },
} as const satisfies ParseArgsOptionsConfig;

export interface CanaryRef {
  namespace: string;
  name: string;
}

/** `NS/NAME`, or `NAME` with `-n NS`; exactly one canary. */
export function parseCanaryRef(positionals: readonly string[], namespaceFlag?: string): CanaryRef {
  if (positionals.length !== 1) {
    throw new CliError(
      ExitCode.usage,
      positionals.length === 0
        ? 'name the canary as NAMESPACE/NAME (or NAME -n NAMESPACE)'
        : `expected one canary, got ${positionals.join(' ')}`,
    );
  }
  const word = positionals[0] ?? '';
  const parts = word.split('/');
  if (parts.length === 2 && parts[0] && parts[1]) {
    if (namespaceFlag !== undefined && namespaceFlag !== parts[0]) {
      throw new CliError(ExitCode.usage, `${word} is in namespace ${parts[0]}, but -n says ${namespaceFlag}`);
    }
    return { namespace: parts[0], name: parts[1] };
  }
  if (parts.length === 1 && word && namespaceFlag) return { namespace: namespaceFlag, name: word };
  throw new CliError(ExitCode.usage, `"${word}" is not NAMESPACE/NAME (or NAME -n NAMESPACE)`);
}

/** Who a steering signal comes from: `--as`, else `$CUTOVER_USER`, else `user@host`. */
export function callerIdentity(
  asFlag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  fallback: { user: string; host: string },
): string {
  const chosen = asFlag ?? env.CUTOVER_USER;
  if (chosen !== undefined) {
    if (chosen.trim() === '') throw new CliError(ExitCode.usage, '--as (or CUTOVER_USER) must not be empty');
    return chosen.trim();
  }
  return `${env.USER ?? fallback.user}@${fallback.host}`;
}
