// The worker's configuration: command-line flags, each with an environment variable behind it (the
// flag wins), checked once at start-up so that every mistake is reported with the flag, the variable
// and the fix, before anything connects anywhere.
import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { Command as Commander, CommanderError, Option } from 'commander';
import { loadClientConfigProfile } from '@temporalio/envconfig';
import type { ClientConfigProfile, ConfigDataSource } from '@temporalio/envconfig';
import { parseDuration } from '../canary/duration.ts';
import { reuseApiConnections } from './kube-connections.ts';
import { parseOrigins } from './codec-server.ts';

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

/** TLS towards the Temporal frontend. Paths are checked readable; temporal-connection.ts reads them. */
export interface TemporalTlsSettings {
  /** Client certificate and key for mTLS (both or neither). */
  clientCertPath?: string;
  clientKeyPath?: string;
  /** CA bundle for the server's certificate; absent = the system's CAs. */
  serverCaPath?: string;
  /** SNI / host name checked against the server's certificate. */
  serverName?: string;
}

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Absent = plaintext. Present (even empty) = TLS. */
  tls?: TemporalTlsSettings;
  /** Sent as `Authorization: Bearer <key>` (Temporal Cloud API keys). */
  apiKey?: string;
}

export type KubernetesSource =
  /** One or more kubeconfig files, merged in order like kubectl does with KUBECONFIG=a:b. */
  | { mode: 'kubeconfig'; paths: string[] }
  /** The pod's service account (KUBERNETES_SERVICE_HOST is set). */
  | { mode: 'in-cluster' };

/**
 * How much one worker process takes on at once. The defaults are sized for a platform's worth of
 * Canaries on one worker (1,000 rollouts, each idle between its ticks); see `workerUsage` for why.
 */
export interface WorkerTuning {
  /** Workflow executions kept in memory between their tasks (0 = none: every task replays its history). */
  maxCachedWorkflows: number;
  /** Workflow tasks run at once (the SDK's `maxConcurrentWorkflowTaskExecutions`). */
  maxConcurrentWorkflowTasks: number;
  /** Activities run at once; readiness waits and webhooks mostly wait, so this can be high. */
  maxConcurrentActivities: number;
  /** Local activities run at once. */
  maxConcurrentLocalActivities: number;
  /** Canaries the watcher reconciles at once (each canary is still reconciled one at a time). */
  reconcileConcurrency: number;
}

export const defaultTuning: Readonly<WorkerTuning> = {
  maxCachedWorkflows: 2000,
  maxConcurrentWorkflowTasks: 40,
  maxConcurrentActivities: 500,
  maxConcurrentLocalActivities: 200,
  reconcileConcurrency: 16,
};

export interface WorkerConfig {
  temporal: TemporalSettings;
  kubernetes: KubernetesSource;
  /** Prometheus for builtin metrics when a Canary names no `metricsServer`; no trailing slash. */
  prometheusUrl: string;
  /** Temporal UI's base URL, for the link to the rollout in every alert; absent = alerts carry no link. */
  temporalUiUrl?: string;
  logLevel: LogLevel;
  /** The one listener for /metrics, /healthz and /readyz. */
  http: { address: string; port: number };
  /** The Temporal SDK's own worker metrics (Prometheus exporter) on this port of the same address; off when absent. */
  sdkMetricsPort?: number;
  /** Namespace the watcher lists Canaries in; absent = all namespaces. */
  watchNamespace?: string;
  /** Shortest `analysis.interval` accepted (Flagger's floor is 10s; tests use 100ms). */
  minIntervalMs: number;
  /** How long in-flight activities get to finish on SIGTERM before the worker is stopped anyway. */
  shutdownGraceMs: number;
  /** False with --no-watcher: run workflows and activities only, start no rollouts. */
  watcher: boolean;
  /** False with --no-rollout-actions: RolloutActions (cutover approve|promote|…) are left alone. */
  rolloutActions: boolean;
  tuning: WorkerTuning;
  /**
   * V8's old-space limit in MiB (`--max-old-space-size`). Node cannot change it once running, so the
   * worker replaces itself with a Node started with the flag (same pid); absent = Node's default.
   */
  maxHeapMb?: number;
  /** The key ring file (a mounted Secret); absent = CUTOVER_PAYLOAD_KEYS(_FILE) or no encryption. */
  payloadKeyFile?: string;
  /** The codec server for Temporal UI and the CLI; off when absent. Needs a payload key. */
  codecServer?: CodecServerConfig;
  /** --help was given: print `workerUsage` and exit 0. */
  help: boolean;
}

export interface CodecServerConfig {
  port: number;
  address: string;
  allowedOrigins: string[];
  /** A file holding the bearer token; absent = CUTOVER_CODEC_TOKEN, or no token (loopback only). */
  tokenFile?: string;
}

export type WorkerConfigResult = { ok: true; config: WorkerConfig } | { ok: false; error: string };

export const workerUsage = `Usage: cutover-worker [flags]

Every flag has an environment variable; the flag wins.

  --temporal-address host:port   TEMPORAL_ADDRESS          (default 127.0.0.1:7233)
  --temporal-namespace name      TEMPORAL_NAMESPACE        (default default)
  --task-queue name              CUTOVER_TASK_QUEUE        (default cutover)
  --tls                          TEMPORAL_TLS=true         TLS with the system's CAs
  --tls-cert file                TEMPORAL_TLS_CERT         client certificate (PEM) for mTLS
                                 (or TEMPORAL_TLS_CLIENT_CERT_PATH)
  --tls-key file                 TEMPORAL_TLS_KEY          client key (PEM) for mTLS
                                 (or TEMPORAL_TLS_CLIENT_KEY_PATH)
  --tls-ca file                  TEMPORAL_TLS_CA           CA bundle (PEM) for the server
                                 (or TEMPORAL_TLS_SERVER_CA_CERT_PATH)
  --tls-server-name name         TEMPORAL_TLS_SERVER_NAME  server name to verify (SNI)
  --api-key key                  TEMPORAL_API_KEY          Temporal Cloud API key (implies TLS)
                                 TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE: a profile of Temporal's config
                                 file (~/.config/temporalio/temporal.toml) for the settings above not set
  --kubeconfig file[:file]       KUBECONFIG                (default in-cluster, else ~/.kube/config)
  --prometheus-url url           PROMETHEUS_URL            (default http://127.0.0.1:9090)
  --temporal-ui-url url          TEMPORAL_UI_URL           Temporal UI, for the rollout's link in alerts (default none)
  --log-level level              LOG_LEVEL                 debug|info|warn|error (default info)
  --metrics-port port            CUTOVER_METRICS_PORT      /metrics, /healthz, /readyz (default 8080)
  --sdk-metrics-port port        CUTOVER_SDK_METRICS_PORT  Temporal SDK worker metrics at /metrics (default off; 9464 in deploy/)
  --metrics-address ip           CUTOVER_METRICS_ADDRESS   (default 0.0.0.0 in-cluster, else 127.0.0.1)
  --watch-namespace ns           CUTOVER_WATCH_NAMESPACE   (default all namespaces)
  --min-interval duration        CUTOVER_MIN_INTERVAL      shortest analysis.interval (default 10s)
  --shutdown-grace duration      CUTOVER_SHUTDOWN_GRACE    (default 30s)

Payload encryption (AES-256-GCM of workflow and activity payloads in Temporal):
  --payload-key-file file        CUTOVER_PAYLOAD_KEYS_FILE the key ring, one base64 key (or id=key) a line,
                                 current first (CUTOVER_PAYLOAD_KEYS holds it inline); default: off
  --codec-port port              CUTOVER_CODEC_PORT        serve /encode and /decode for Temporal UI and
                                 temporal --codec-endpoint (default off; needs a payload key)
  --codec-address ip             CUTOVER_CODEC_ADDRESS     (default 127.0.0.1; another needs a token)
  --codec-cors-origins urls      CUTOVER_CODEC_CORS_ORIGINS
                                 comma-separated browser origins (Temporal UI's) allowed to call it
  --codec-token-file file        CUTOVER_CODEC_TOKEN_FILE  require Authorization: Bearer <its content>
                                 (CUTOVER_CODEC_TOKEN holds it inline)

Scale (one worker holds about 1,000 rollouts with the defaults):
  --max-cached-workflows n       CUTOVER_MAX_CACHED_WORKFLOWS
                                 rollouts kept in memory between ticks; beyond it a tick replays
                                 its whole history (default 2000; 0 = no cache)
  --max-concurrent-workflow-tasks n
                                 CUTOVER_MAX_CONCURRENT_WORKFLOW_TASKS
                                 workflow tasks at once (default 40; at most the cache size)
  --max-concurrent-activities n  CUTOVER_MAX_CONCURRENT_ACTIVITIES
                                 activities at once; most wait on the cluster or a hook (default 500)
  --max-concurrent-local-activities n
                                 CUTOVER_MAX_CONCURRENT_LOCAL_ACTIVITIES (default 200)
  --reconcile-concurrency n      CUTOVER_RECONCILE_CONCURRENCY
                                 Canaries the watcher reconciles at once (default 16)
  --max-heap-mb n                CUTOVER_MAX_HEAP_MB       V8 heap limit in MiB: the worker restarts
                                 itself in place (same pid) with --max-old-space-size=n (default Node's)

  --no-watcher                                             run the worker only, start no rollouts
  --no-rollout-actions                                     do not act on RolloutActions (cutover approve|
                                                           promote|…); with --no-watcher, neither
  --help                                                   print this text
`;

const options = {
  'temporal-address': { type: 'string' },
  'temporal-namespace': { type: 'string' },
  'task-queue': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-server-name': { type: 'string' },
  'api-key': { type: 'string' },
  kubeconfig: { type: 'string' },
  'prometheus-url': { type: 'string' },
  'temporal-ui-url': { type: 'string' },
  'log-level': { type: 'string' },
  'metrics-port': { type: 'string' },
  'sdk-metrics-port': { type: 'string' },
  'metrics-address': { type: 'string' },
  'watch-namespace': { type: 'string' },
  'min-interval': { type: 'string' },
  'shutdown-grace': { type: 'string' },
  'max-cached-workflows': { type: 'string' },
  'max-concurrent-workflow-tasks': { type: 'string' },
  'max-concurrent-activities': { type: 'string' },
  'max-concurrent-local-activities': { type: 'string' },
  'reconcile-concurrency': { type: 'string' },
  'max-heap-mb': { type: 'string' },
  'payload-key-file': { type: 'string' },
  'codec-port': { type: 'string' },
  'codec-address': { type: 'string' },
  'codec-cors-origins': { type: 'string' },
  'codec-token-file': { type: 'string' },
  'no-watcher': { type: 'boolean' },
  'no-rollout-actions': { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

type StringFlag = {
  [K in keyof typeof options]: (typeof options)[K]['type'] extends 'string' ? K : never;
}[keyof typeof options];

/** A value and where it came from, so an error names the flag or the variable the user actually set. */
interface Setting {
  value: string;
  source: string;
}

class ConfigError extends Error {}

function fail(message: string): never {
  throw new ConfigError(message);
}

export function loadWorkerConfig(argv: string[], env: NodeJS.ProcessEnv): WorkerConfigResult {
  try {
    return { ok: true, config: buildConfig(argv, env) };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, error: error.message };
    throw error;
  }
}

type Flags = {
  [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'string' ? string : boolean;
};

/**
 * The worker's flags as a commander command: `cutover worker` in the one program, and the parser of
 * `loadWorkerConfig`. commander neither prints nor exits; its errors are said in our words below, so
 * that every mistake names the flag and the fix (and Node's or commander's wording may change).
 */
export function workerCommand(): Commander {
  const command = new Commander('worker')
    .description('run the Cutover worker (revision watcher and rollouts)')
    .exitOverride()
    .helpOption(false)
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined, outputError: () => undefined })
    .argument('[words...]');
  for (const [name, option] of Object.entries(options)) {
    command.addOption(new Option(option.type === 'string' ? `--${name} <value>` : `--${name}`));
  }
  // What `cutover worker --help` prints: the flags with their variables and defaults.
  command.helpInformation = () => workerUsage;
  return command;
}

function parseFlags(argv: string[]): Flags {
  const command = workerCommand();
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const flag = /'(-[^' ]*)/.exec(error.message)?.[1] ?? '';
    if (error.code === 'commander.optionMissingArgument') fail(`${flag} needs a value (${flag}=value)`);
    const [name, inline] = flag.split('=', 2);
    const known = (options as Record<string, { type: 'string' | 'boolean' }>)[name?.replace(/^--/, '') ?? ''];
    if (inline !== undefined && known?.type === 'boolean') {
      fail(`${name} is a switch and takes no value; give just ${name}`);
    }
    fail(`unknown flag '${flag}'; run with --help for the flags`);
  }
  const words = (command.processedArgs[0] as string[] | undefined) ?? [];
  if (words.length > 0) fail(`unexpected argument '${words[0]}'; the worker takes only flags (see --help)`);
  const flags: Record<string, string | boolean> = {};
  for (const option of command.options) {
    const name = (option.long ?? '').replace(/^--/, '');
    const value: unknown = command.getOptionValue(option.attributeName());
    if (command.getOptionValueSource(option.attributeName()) !== 'cli') continue;
    if (option.negate) {
      flags[name] = true; // --no-watcher given
    } else if (typeof value === 'string') {
      // `--metrics-port --no-watcher`: commander takes the next word as the value; it is a flag.
      if (value.startsWith('--') && !argv.includes(`--${name}=${value}`)) {
        fail(`--${name} needs a value but is followed by the flag '${value}'; write --${name}=value`);
      }
      flags[name] = value;
    } else if (value === true) {
      flags[name] = true;
    }
  }
  return flags as Flags;
}

function buildConfig(argv: string[], env: NodeJS.ProcessEnv): WorkerConfig {
  const flags = parseFlags(argv);

  const profile = temporalProfileSettings(env);
  const setting = (flag: StringFlag, envName?: string): Setting | undefined => {
    const fromFlag = flags[flag];
    if (fromFlag !== undefined) return { value: fromFlag, source: `--${flag}` };
    // Ours first, then the name @temporalio/envconfig (and the temporal CLI) reads for the same thing.
    for (const name of envName === undefined ? [] : [envName, ...(envconfigAliases[envName] ?? [])]) {
      const fromEnv = env[name];
      // An empty variable is how shells and manifests say "unset".
      if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: name };
    }
    return profile.settings[flag];
  };

  const inCluster = (env.KUBERNETES_SERVICE_HOST ?? '') !== '';

  const temporal = temporalSettings(flags, setting, env, profile.tls);
  // --help needs no cluster: the kubeconfig is checked only when the worker is going to run.
  const kubernetes: KubernetesSource =
    flags.help === true
      ? { mode: 'kubeconfig', paths: [] }
      : kubernetesSource(setting('kubeconfig', 'KUBECONFIG'), inCluster, env);
  const prometheusUrl = httpUrl(setting('prometheus-url', 'PROMETHEUS_URL')) ?? 'http://127.0.0.1:9090';
  const temporalUiUrl = httpUrl(
    setting('temporal-ui-url', 'TEMPORAL_UI_URL'),
    'https://temporal-ui.example.com',
  );
  const logLevel = oneOf(setting('log-level', 'LOG_LEVEL'), logLevels) ?? 'info';
  const port = portNumber(setting('metrics-port', 'CUTOVER_METRICS_PORT')) ?? 8080;
  const sdkMetricsSetting = setting('sdk-metrics-port', 'CUTOVER_SDK_METRICS_PORT');
  const sdkMetricsPort = sdkMetricsSetting === undefined ? undefined : portNumber(sdkMetricsSetting);
  const address = listenAddress(setting('metrics-address', 'CUTOVER_METRICS_ADDRESS'));
  const watchNamespace = namespaceName(setting('watch-namespace', 'CUTOVER_WATCH_NAMESPACE'));
  const minIntervalMs =
    duration(setting('min-interval', 'CUTOVER_MIN_INTERVAL'), { positive: true }) ?? 10_000;
  const shutdownGraceMs =
    duration(setting('shutdown-grace', 'CUTOVER_SHUTDOWN_GRACE'), { positive: false }) ?? 30_000;
  const tuning = workerTuning(setting);
  const maxHeapMb = count(setting('max-heap-mb', 'CUTOVER_MAX_HEAP_MB'), {
    min: 128,
    why: 'MiB; the worker needs about 150 MiB before its first rollout',
  });
  const payloadKeyFile = nonEmpty(setting('payload-key-file', 'CUTOVER_PAYLOAD_KEYS_FILE'));
  const codecServer = codecServerConfig(setting, payloadKeyFile !== undefined || !!env.CUTOVER_PAYLOAD_KEYS);

  return {
    temporal,
    kubernetes,
    prometheusUrl,
    ...(temporalUiUrl === undefined ? {} : { temporalUiUrl }),
    logLevel,
    http: { address: address ?? (inCluster ? '0.0.0.0' : '127.0.0.1'), port },
    ...(sdkMetricsPort === undefined ? {} : { sdkMetricsPort }),
    ...(watchNamespace === undefined ? {} : { watchNamespace }),
    minIntervalMs,
    shutdownGraceMs,
    watcher: flags['no-watcher'] !== true,
    rolloutActions: flags['no-rollout-actions'] !== true,
    tuning,
    ...(maxHeapMb === undefined ? {} : { maxHeapMb }),
    ...(payloadKeyFile === undefined ? {} : { payloadKeyFile }),
    ...(codecServer === undefined ? {} : { codecServer }),
    help: flags.help === true,
  };
}

function codecServerConfig(
  setting: (flag: StringFlag, envName?: string) => Setting | undefined,
  hasKey: boolean,
): CodecServerConfig | undefined {
  const portSetting = setting('codec-port', 'CUTOVER_CODEC_PORT');
  const port = portNumber(portSetting);
  const address = listenAddress(setting('codec-address', 'CUTOVER_CODEC_ADDRESS'));
  const origins = setting('codec-cors-origins', 'CUTOVER_CODEC_CORS_ORIGINS');
  const tokenFile = nonEmpty(setting('codec-token-file', 'CUTOVER_CODEC_TOKEN_FILE'));
  if (port === undefined) return undefined;
  if (!hasKey) {
    fail(
      `${portSetting?.source} starts the codec server, which needs the payload key: set --payload-key-file or CUTOVER_PAYLOAD_KEYS_FILE (or CUTOVER_PAYLOAD_KEYS)`,
    );
  }
  const { origins: allowedOrigins, invalid } = parseOrigins(origins?.value ?? '');
  if (invalid !== undefined) {
    fail(
      `${origins?.source} must list origins like http://127.0.0.1:8233 (scheme, host and port, no path), got '${invalid}'`,
    );
  }
  return {
    port,
    address: address ?? '127.0.0.1',
    allowedOrigins,
    ...(tokenFile === undefined ? {} : { tokenFile }),
  };
}

function workerTuning(setting: (flag: StringFlag, envName?: string) => Setting | undefined): WorkerTuning {
  const cacheSetting = setting('max-cached-workflows', 'CUTOVER_MAX_CACHED_WORKFLOWS');
  const maxCachedWorkflows = count(cacheSetting, { min: 0 }) ?? defaultTuning.maxCachedWorkflows;
  if (maxCachedWorkflows === 1) {
    fail(`${cacheSetting?.source} must be 0 (no cache) or at least 2, got '1'`);
  }
  const tasksSetting = setting('max-concurrent-workflow-tasks', 'CUTOVER_MAX_CONCURRENT_WORKFLOW_TASKS');
  const maxConcurrentWorkflowTasks =
    count(tasksSetting, { min: 2, why: 'the SDK needs two for a cached workflow' }) ??
    Math.min(defaultTuning.maxConcurrentWorkflowTasks, Math.max(maxCachedWorkflows, 2));
  if (maxCachedWorkflows > 0 && maxConcurrentWorkflowTasks > maxCachedWorkflows) {
    fail(
      `${tasksSetting?.source ?? 'the workflow task concurrency'} (${maxConcurrentWorkflowTasks}) must not exceed the workflow cache (${cacheSetting?.source ?? 'default'} ${maxCachedWorkflows}); lower it or raise the cache`,
    );
  }
  return {
    maxCachedWorkflows,
    maxConcurrentWorkflowTasks,
    maxConcurrentActivities:
      count(setting('max-concurrent-activities', 'CUTOVER_MAX_CONCURRENT_ACTIVITIES'), { min: 1 }) ??
      defaultTuning.maxConcurrentActivities,
    maxConcurrentLocalActivities:
      count(setting('max-concurrent-local-activities', 'CUTOVER_MAX_CONCURRENT_LOCAL_ACTIVITIES'), {
        min: 1,
      }) ?? defaultTuning.maxConcurrentLocalActivities,
    reconcileConcurrency:
      count(setting('reconcile-concurrency', 'CUTOVER_RECONCILE_CONCURRENCY'), { min: 1 }) ??
      defaultTuning.reconcileConcurrency,
  };
}

/** A whole number of at least `min`; `why` explains the minimum in the error. */
function count(value: Setting | undefined, rule: { min: number; why?: string }): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value.value)) {
    fail(`${value.source} must be a whole number, got '${value.value}'`);
  }
  const parsed = Number(value.value);
  if (parsed < rule.min) {
    fail(
      `${value.source} must be at least ${rule.min}${rule.why === undefined ? '' : ` (${rule.why})`}, got '${value.value}'`,
    );
  }
  return parsed;
}

/** Temporal's own variable names (@temporalio/envconfig) for the settings we name otherwise. */
const envconfigAliases: Readonly<Record<string, readonly string[]>> = {
  TEMPORAL_TLS_CERT: ['TEMPORAL_TLS_CLIENT_CERT_PATH'],
  TEMPORAL_TLS_KEY: ['TEMPORAL_TLS_CLIENT_KEY_PATH'],
  TEMPORAL_TLS_CA: ['TEMPORAL_TLS_SERVER_CA_CERT_PATH'],
};

/**
 * A profile of Temporal's config file (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml;
 * TEMPORAL_PROFILE, else `default`), the last place a Temporal setting is looked for: flags and
 * variables win. Certificates must be paths: the worker checks and reads files.
 */
function temporalProfileSettings(env: NodeJS.ProcessEnv): {
  settings: Partial<Record<StringFlag, Setting>>;
  tls?: boolean;
} {
  const defined: Record<string, string> = {};
  for (const [key, value] of Object.entries(env))
    if (value !== undefined && value !== '') defined[key] = value;
  const file = defined.TEMPORAL_CONFIG_FILE;
  const name = defined.TEMPORAL_PROFILE ?? 'default';
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ disableEnv: true, overrideEnvVars: defined });
  } catch (error) {
    const message = (error instanceof Error ? error.message.split('\n')[0] : undefined) ?? String(error);
    // No file at the default place is no profile, not a mistake.
    if (file === undefined && defined.TEMPORAL_PROFILE === undefined && /ENOENT/.test(message))
      return { settings: {} };
    return fail(
      `${file === undefined ? 'TEMPORAL_PROFILE' : 'TEMPORAL_CONFIG_FILE'}: cannot use profile '${name}' of ${file ?? "Temporal's config file"} (${message}); fix the file or unset the variable`,
    );
  }
  const source = `profile '${name}' of ${file ?? "Temporal's config file"}`;
  const settings: Partial<Record<StringFlag, Setting>> = {};
  const put = (flag: StringFlag, value: string | undefined, key: string) => {
    if (value !== undefined) settings[flag] = { value, source: `${source} (${key})` };
  };
  const path = (data: ConfigDataSource | undefined, key: string): string | undefined => {
    if (data === undefined) return undefined;
    if ('path' in data) return data.path;
    return fail(`${source}: ${key}_data is not supported by the worker; give ${key}_path (a mounted file)`);
  };
  put('temporal-address', profile.address, 'address');
  put('temporal-namespace', profile.namespace, 'namespace');
  put('api-key', profile.apiKey, 'api_key');
  put('tls-cert', path(profile.tls?.clientCert, 'client_cert'), 'tls.client_cert_path');
  put('tls-key', path(profile.tls?.clientKey, 'client_key'), 'tls.client_key_path');
  put('tls-ca', path(profile.tls?.serverCACert, 'server_ca_cert'), 'tls.server_ca_cert_path');
  put('tls-server-name', profile.tls?.serverName, 'tls.server_name');
  return {
    settings,
    ...(profile.tls === undefined ? {} : { tls: profile.tls.disabled !== true }),
  };
}

function temporalSettings(
  flags: Flags,
  setting: (flag: StringFlag, envName?: string) => Setting | undefined,
  env: NodeJS.ProcessEnv,
  profileTls?: boolean,
): TemporalSettings {
  const address = setting('temporal-address', 'TEMPORAL_ADDRESS');
  if (address !== undefined) checkTemporalAddress(address);
  const namespace = nonEmpty(setting('temporal-namespace', 'TEMPORAL_NAMESPACE')) ?? 'default';
  const taskQueue = nonEmpty(setting('task-queue', 'CUTOVER_TASK_QUEUE')) ?? 'cutover';

  const cert = setting('tls-cert', 'TEMPORAL_TLS_CERT');
  const key = setting('tls-key', 'TEMPORAL_TLS_KEY');
  const ca = setting('tls-ca', 'TEMPORAL_TLS_CA');
  const serverName = nonEmpty(setting('tls-server-name', 'TEMPORAL_TLS_SERVER_NAME'));
  const apiKey = nonEmpty(setting('api-key', 'TEMPORAL_API_KEY'));

  if (cert !== undefined && key === undefined) {
    fail(
      `${cert.source} is set but the client key is not; set --tls-key or TEMPORAL_TLS_KEY too (mTLS needs both)`,
    );
  }
  if (key !== undefined && cert === undefined) {
    fail(
      `${key.source} is set but the client certificate is not; set --tls-cert or TEMPORAL_TLS_CERT too (mTLS needs both)`,
    );
  }
  for (const file of [cert, key, ca]) if (file !== undefined) checkReadableFile(file);

  // --tls is a plain switch; TEMPORAL_TLS can also say false, which turns TLS off even with an API key
  // (a plaintext sidecar proxy in front of Temporal Cloud, say) but cannot be combined with certificates.
  const tlsEnv = flags.tls === true ? true : (booleanEnv(env, 'TEMPORAL_TLS') ?? profileTls);
  const wantsCerts = cert ?? ca ?? (serverName === undefined ? undefined : { source: 'the TLS server name' });
  if (tlsEnv === false && wantsCerts !== undefined) {
    fail(`TEMPORAL_TLS=false contradicts ${wantsCerts.source}; remove TEMPORAL_TLS or the TLS settings`);
  }
  const tlsOn = tlsEnv ?? (wantsCerts !== undefined || apiKey !== undefined);

  const tls: TemporalTlsSettings = {
    ...(cert === undefined ? {} : { clientCertPath: cert.value }),
    ...(key === undefined ? {} : { clientKeyPath: key.value }),
    ...(ca === undefined ? {} : { serverCaPath: ca.value }),
    ...(serverName === undefined ? {} : { serverName }),
  };
  return {
    address: address?.value ?? '127.0.0.1:7233',
    namespace,
    taskQueue,
    ...(tlsOn ? { tls } : {}),
    ...(apiKey === undefined ? {} : { apiKey }),
  };
}

function checkTemporalAddress(address: Setting): void {
  const { value, source } = address;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    fail(`${source} must be host:port without a scheme (e.g. 127.0.0.1:7233), got '${value}'`);
  }
  const match = /^(\[[0-9a-f:.]+\]|[^:\s[\]]+)(?::(\d+))?$/i.exec(value);
  const port = match?.[2];
  if (match === null || (port !== undefined && !isPort(port))) {
    fail(`${source} must be host:port (e.g. 127.0.0.1:7233 or temporal.example.com:7233), got '${value}'`);
  }
}

function kubernetesSource(
  kubeconfig: Setting | undefined,
  inCluster: boolean,
  env: NodeJS.ProcessEnv,
): KubernetesSource {
  if (kubeconfig !== undefined) {
    // kubectl's convention: KUBECONFIG may list several files; missing ones are skipped, but at
    // least one must exist.
    const paths = kubeconfig.value.split(delimiter).filter((path) => path !== '');
    const readable = paths.filter((path) => readableFileProblem(path) === undefined);
    if (readable.length === 0) {
      const problem = readableFileProblem(paths[0] ?? kubeconfig.value) ?? 'is not a kubeconfig';
      fail(`${kubeconfig.source}: '${kubeconfig.value}' ${problem}; point it at a readable kubeconfig file`);
    }
    return { mode: 'kubeconfig', paths: readable };
  }
  if (inCluster) return { mode: 'in-cluster' };
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  const fallback = join(home, '.kube', 'config');
  const problem = readableFileProblem(fallback);
  if (problem !== undefined) {
    fail(
      `no cluster to talk to: ${fallback} ${problem}; set --kubeconfig or KUBECONFIG, or run in a cluster (KUBERNETES_SERVICE_HOST)`,
    );
  }
  return { mode: 'kubeconfig', paths: [fallback] };
}

/**
 * The KubeConfig for a checked source: in-cluster service account, or the files merged in order. Its
 * API clients keep their connections to the API server open and reuse them (kube-connections.ts).
 */
export function loadKubeConfig(source: KubernetesSource): k8s.KubeConfig {
  const config = reuseApiConnections(new k8s.KubeConfig());
  if (source.mode === 'in-cluster') {
    config.loadFromCluster();
    return config;
  }
  const [first, ...rest] = source.paths;
  if (first === undefined) throw new Error('loadKubeConfig: no kubeconfig paths');
  config.loadFromFile(first);
  for (const path of rest) {
    const more = new k8s.KubeConfig();
    more.loadFromFile(path);
    config.mergeConfig(more, true);
  }
  return config;
}

function readableFileProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'is not a file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'does not exist';
    if (code === 'EACCES') return 'is not readable by this process';
    return `cannot be read (${code ?? String(error)})`;
  }
}

function checkReadableFile(file: Setting): void {
  const problem = readableFileProblem(file.value);
  if (problem !== undefined)
    fail(`${file.source}: '${file.value}' ${problem}; give the path of a readable PEM file`);
}

function nonEmpty(value: Setting | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.value.trim() === '') fail(`${value.source} must not be empty; leave it out to use the default`);
  return value.value;
}

function booleanEnv(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = raw.toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return fail(`${name} must be true or false, got '${raw}'`);
}

function isPort(text: string): boolean {
  if (!/^\d{1,5}$/.test(text)) return false;
  const port = Number(text);
  return port >= 1 && port <= 65535;
}

function portNumber(value: Setting | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!isPort(value.value)) fail(`${value.source} must be a port number (1-65535), got '${value.value}'`);
  return Number(value.value);
}

function listenAddress(value: Setting | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value.value);
  const ok =
    ipv4 !== null
      ? ipv4.slice(1).every((part) => Number(part) <= 255)
      : /^[0-9a-f:]*:[0-9a-f:.]*$/i.test(value.value) || value.value === 'localhost';
  if (!ok) {
    fail(
      `${value.source} must be an IP address to listen on (e.g. 0.0.0.0, 127.0.0.1 or ::), got '${value.value}'`,
    );
  }
  return value.value;
}

function httpUrl(
  value: Setting | undefined,
  example = 'http://prometheus.monitoring:9090',
): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value.value);
  } catch {
    return fail(`${value.source} must be an http(s) URL (e.g. ${example}), got '${value.value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(`${value.source} must be an http(s) URL (e.g. ${example}), got '${value.value}'`);
  }
  return value.value.replace(/\/+$/, '');
}

function oneOf<T extends string>(value: Setting | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const lower = value.value.toLowerCase();
  const found = allowed.find((candidate) => candidate === lower);
  if (found === undefined) fail(`${value.source} must be one of ${allowed.join('|')}, got '${value.value}'`);
  return found;
}

function namespaceName(value: Setting | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.value === 'all' || value.value === '*') return undefined;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value.value)) {
    fail(
      `${value.source} must be a Kubernetes namespace name (lowercase letters, digits, '-'), or leave it out to watch all namespaces, got '${value.value}'`,
    );
  }
  return value.value;
}

function duration(value: Setting | undefined, rule: { positive: boolean }): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseDuration(value.value);
  if (!parsed.ok) fail(`${value.source} must be a duration: ${parsed.reason}`);
  if (rule.positive ? parsed.ms <= 0 : parsed.ms < 0) {
    fail(
      `${value.source} must be ${rule.positive ? 'longer than zero' : 'zero or more'}, got '${value.value}'`,
    );
  }
  return parsed.ms;
}
