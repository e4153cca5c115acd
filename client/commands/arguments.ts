// The command line's grammar, on commander, pure so that unit tests can pin it down: kubectl's flags
// (`-n/--namespace`, `-A`, `--context`, `--kubeconfig`) anywhere, the command as the first word,
// `NAMESPACE/NAME` or `NAME` for a canary, and who is steering. A mistake is a CliError (exit 64)
// whose one sentence suggests the nearest flag or command.
import { Command as Commander, CommanderError, Option } from 'commander';
import { CliError, ExitCode } from './context.ts';

export type OutputFormat = 'text' | 'json';

export interface GlobalOptions {
  output: OutputFormat;
  /** Temporal frontend host:port. */
  address: string;
  /** Temporal namespace (`--temporal-namespace`). */
  temporalNamespace: string;
  /** Temporal UI base URL, for links. */
  uiUrl: string;
  /** The kubeconfig file(s), as KUBECONFIG would list them (kubectl's resolution, see cli.ts). */
  kubeconfig: string;
  /** `--context`: the kubeconfig context to use instead of its current-context. */
  context?: string;
  /** `-n/--namespace`: the Kubernetes namespace; absent = the context's namespace, else `default`. */
  namespace?: string;
  /** `-A/--all-namespaces` (list). */
  allNamespaces: boolean;
  /** The payload key ring file (`--payload-key-file`); absent = CUTOVER_PAYLOAD_KEYS(_FILE), else none. */
  payloadKeyFile?: string;
}

/** Where the defaults come from: the environment, else the local stack. */
export interface EndpointDefaults {
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string;
  kubeconfig: string;
}

/** One flag of a command, as node's parseArgs describes it (the commands were written that way). */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
}
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** The global flags: every command takes them, before or after its name. */
const globalFlags: readonly { flags: string; help: string; hidden?: boolean }[] = [
  {
    flags: '-n, --namespace <namespace>',
    help: "Kubernetes namespace (default: the context's, else default)",
  },
  { flags: '-A, --all-namespaces', help: 'list: every namespace' },
  { flags: '--context <name>', help: 'kubeconfig context (default: its current-context)' },
  {
    flags: '--kubeconfig <file>',
    help: 'kubeconfig (default $KUBECONFIG, else ~/.kube/config, else the local stack\u2019s)',
  },
  {
    flags: '--temporal-namespace <name>',
    help: 'Temporal namespace (default $TEMPORAL_NAMESPACE, else default)',
  },
  {
    flags: '--address <host:port>',
    help: "Temporal frontend (default $TEMPORAL_ADDRESS, else the local stack's)",
  },
  { flags: '--temporal-address <host:port>', help: 'same as --address', hidden: true },
  {
    flags: '--ui-url <url>',
    help: "Temporal UI, for links (default $TEMPORAL_UI_URL, else the local stack's)",
  },
  {
    flags: '--payload-key-file <file>',
    help: 'key ring for encrypted payloads (default $CUTOVER_PAYLOAD_KEYS_FILE, else $CUTOVER_PAYLOAD_KEYS)',
  },
  { flags: '-o, --output <format>', help: 'text or json (default text)' },
  // The name -n had before it became kubectl's --namespace: kept so old scripts still run.
  { flags: '--canary-namespace <namespace>', help: 'same as -n', hidden: true },
  { flags: '-h, --help', help: 'this help' },
];

/** Adds the global flags to a commander command (the program and each subcommand). */
export function addGlobalFlags(command: Commander): Commander {
  for (const flag of globalFlags) {
    const option = new Option(flag.flags, flag.help);
    command.addOption(flag.hidden ? option.hideHelp() : option);
  }
  return command;
}

/** Adds a command's own flags. */
export function addCommandFlags(command: Commander, specs: FlagSpecs): Commander {
  for (const [name, spec] of Object.entries(specs)) {
    const short = spec.short ? `-${spec.short}, ` : '';
    command.addOption(new Option(`${short}--${name}${spec.type === 'string' ? ' <value>' : ''}`));
  }
  return command;
}

/** Errors are ours to print (one line, cli.ts); commander neither writes nor exits. */
export function quiet(command: Commander): Commander {
  return command
    .exitOverride()
    .helpOption(false)
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined, outputError: () => undefined });
}

/** A commander error as the one sentence the user sees: "unknown option '--x' (did you mean --y?)". */
export function usageError(error: CommanderError, helpHint: string): CliError {
  const [first = error.message, ...rest] = error.message.replace(/^error: /, '').split('\n');
  const suggestion = rest
    .join(' ')
    .trim()
    .replace(/^\(Did you mean/, '(did you mean');
  return new CliError(ExitCode.usage, `${first}${suggestion ? ` ${suggestion}` : ''}; ${helpHint}`);
}

export type ValueOf<O extends FlagSpecs> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string;
};

export interface ParsedCommand<O extends FlagSpecs> {
  globals: GlobalOptions;
  values: ValueOf<O>;
  positionals: string[];
  help: boolean;
}

type RawValues = Record<string, string | boolean | undefined>;

/** The global options from what commander parsed (the program's, then the command's, which win). */
export function globalsOf(raw: RawValues, defaults: EndpointDefaults): GlobalOptions {
  const text = (key: string): string | undefined => {
    const value = raw[key];
    return typeof value === 'string' ? value : undefined;
  };
  const output = text('output') ?? 'text';
  if (output !== 'text' && output !== 'json') {
    throw new CliError(ExitCode.usage, `--output must be text or json, not "${output}"`);
  }
  const namespace = text('namespace');
  const alias = text('canaryNamespace');
  if (namespace !== undefined && alias !== undefined && namespace !== alias) {
    throw new CliError(ExitCode.usage, `-n ${namespace} and --canary-namespace ${alias} disagree: give one`);
  }
  const kubeNamespace = namespace ?? alias;
  if (kubeNamespace !== undefined && raw.allNamespaces === true) {
    throw new CliError(ExitCode.usage, '-A (all namespaces) and -n NAMESPACE exclude each other: give one');
  }
  for (const [key, flag] of [
    ['namespace', '-n/--namespace'],
    ['context', '--context'],
    ['kubeconfig', '--kubeconfig'],
    ['temporalNamespace', '--temporal-namespace'],
  ] as const) {
    if (text(key)?.trim() === '') throw new CliError(ExitCode.usage, `${flag} must not be empty`);
  }
  const context = text('context');
  const payloadKeyFile = text('payloadKeyFile');
  return {
    output,
    address: text('address') ?? text('temporalAddress') ?? defaults.temporalAddress,
    temporalNamespace: text('temporalNamespace') ?? defaults.temporalNamespace,
    uiUrl: (text('uiUrl') ?? defaults.temporalUiUrl).replace(/\/+$/, ''),
    kubeconfig: text('kubeconfig') ?? defaults.kubeconfig,
    ...(context === undefined ? {} : { context }),
    ...(kubeNamespace === undefined ? {} : { namespace: kubeNamespace }),
    allNamespaces: raw.allNamespaces === true,
    ...(payloadKeyFile === undefined ? {} : { payloadKeyFile }),
  };
}

/** commander's camelCase keys back to the flag names the commands read (`to-revision`). */
function commandValues<O extends FlagSpecs>(raw: RawValues, specs: O): ValueOf<O> {
  const values: Record<string, string | boolean> = {};
  for (const name of Object.keys(specs)) {
    const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = raw[key];
    if (value !== undefined) values[name] = value;
  }
  return values as ValueOf<O>;
}

/** A subcommand of the program with the global flags, its own flags, and its words. */
export function defineCommand(parent: Commander, name: string, specs: FlagSpecs): Commander {
  const command = quiet(parent.command(name));
  addGlobalFlags(command);
  addCommandFlags(command, specs);
  return command.argument('[args...]');
}

/** What one parsed command line holds, given the program's and the command's commander objects. */
export function parsedOf<O extends FlagSpecs>(
  program: Commander,
  command: Commander,
  specs: O,
  defaults: EndpointDefaults,
): ParsedCommand<O> {
  const raw: RawValues = { ...(program.opts() as RawValues), ...(command.opts() as RawValues) };
  return {
    globals: globalsOf(raw, defaults),
    values: commandValues(raw, specs),
    positionals: [...((command.processedArgs[0] as string[] | undefined) ?? [])],
    help: raw.help === true,
  };
}

/** A program with the global flags, which takes a command after them (and only then its flags). */
export function baseProgram(name = 'cutover'): Commander {
  return addGlobalFlags(quiet(new Commander(name)).enablePositionalOptions());
}

/**
 * Parses one command's arguments (global flags included), strictly: an unknown flag is a usage
 * error. The same grammar as the whole program, for one command: unit tests and the commands' own.
 */
export function parseCommand<O extends FlagSpecs>(
  args: readonly string[],
  options: O,
  defaults: EndpointDefaults,
): ParsedCommand<O> {
  const program = baseProgram();
  const command = defineCommand(program, 'command', options);
  try {
    program.parse(['command', ...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw usageError(error, 'see --help');
    throw error;
  }
  return parsedOf(program, command, options, defaults);
}

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

const valueFlags = new Set(
  globalFlags
    .filter((f) => f.flags.includes('<'))
    .flatMap((f) => f.flags.split(/[ ,]+/).filter((w) => w.startsWith('-'))),
);

function takesValue(flag: string): boolean {
  return !flag.includes('=') && valueFlags.has(flag);
}

export interface CanaryRef {
  namespace: string;
  name: string;
}

/**
 * `NAMESPACE/NAME`, or `NAME` in the namespace of `-n`, else `defaultNamespace` (the kubeconfig
 * context's, as kubectl); exactly one canary.
 */
export function parseCanaryRef(
  positionals: readonly string[],
  namespaceFlag?: string,
  defaultNamespace?: string,
): CanaryRef {
  if (positionals.length !== 1) {
    throw new CliError(
      ExitCode.usage,
      positionals.length === 0
        ? 'name the canary: NAME (in -n NAMESPACE or the context\u2019s namespace) or NAMESPACE/NAME'
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
  const namespace = namespaceFlag ?? defaultNamespace;
  if (parts.length === 1 && word && namespace) return { namespace, name: word };
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

/** The canary a command names, with `-n` and the context's namespace as kubectl would apply them. */
export function canaryRefOf(
  ctx: { options: Pick<GlobalOptions, 'namespace'>; defaultNamespace(): string },
  positionals: readonly string[],
): CanaryRef {
  // The context's namespace is read only when the name needs it: NAMESPACE/NAME never loads the file.
  const word = positionals.length === 1 ? (positionals[0] ?? '') : '';
  const needsDefault = ctx.options.namespace === undefined && word !== '' && !word.includes('/');
  return parseCanaryRef(
    positionals,
    ctx.options.namespace,
    needsDefault ? ctx.defaultNamespace() : undefined,
  );
}
