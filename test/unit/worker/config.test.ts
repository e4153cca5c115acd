import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTuning, loadWorkerConfig, workerUsage } from '../../../worker/config.ts';
import type { WorkerConfig } from '../../../worker/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'cutover-config-'));
const kubeconfig = join(dir, 'kubeconfig.yaml');
writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');
const cert = join(dir, 'client.pem');
const key = join(dir, 'client.key');
const ca = join(dir, 'ca.pem');
for (const file of [cert, key, ca]) writeFileSync(file, 'pem');

/** An environment with a cluster to talk to and nothing else set. */
const baseEnv = { KUBECONFIG: kubeconfig };

function load(argv: string[], env: NodeJS.ProcessEnv = baseEnv): WorkerConfig {
  const result = loadWorkerConfig(argv, env);
  if (!result.ok) assert.fail(`expected a config, got: ${result.error}`);
  return result.config;
}

function error(argv: string[], env: NodeJS.ProcessEnv = baseEnv): string {
  const result = loadWorkerConfig(argv, env);
  if (result.ok) assert.fail(`expected an error for ${JSON.stringify({ argv, env })}`);
  return result.error;
}

test('defaults: local Temporal in plaintext, local Prometheus, loopback metrics, all namespaces', () => {
  assert.deepEqual(load([]), {
    temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'cutover' },
    kubernetes: { mode: 'kubeconfig', paths: [kubeconfig] },
    prometheusUrl: 'http://127.0.0.1:9090',
    logLevel: 'info',
    http: { address: '127.0.0.1', port: 8080 },
    minIntervalMs: 10_000,
    shutdownGraceMs: 30_000,
    watcher: true,
    rolloutActions: true,
    tuning: {
      maxCachedWorkflows: 2000,
      maxConcurrentWorkflowTasks: 40,
      maxConcurrentActivities: 500,
      maxConcurrentLocalActivities: 200,
      reconcileConcurrency: 16,
    },
    help: false,
  });
});

test('every setting from its environment variable', () => {
  const config = load([], {
    ...baseEnv,
    TEMPORAL_ADDRESS: 'temporal.example.com:7233',
    TEMPORAL_NAMESPACE: 'rollouts',
    CUTOVER_TASK_QUEUE: 'cutover-prod',
    PROMETHEUS_URL: 'http://prometheus.monitoring:9090/',
    LOG_LEVEL: 'DEBUG',
    CUTOVER_METRICS_PORT: '9100',
    CUTOVER_METRICS_ADDRESS: '::',
    CUTOVER_WATCH_NAMESPACE: 'shop',
    CUTOVER_MIN_INTERVAL: '100ms',
    CUTOVER_SHUTDOWN_GRACE: '1m',
  });
  assert.equal(config.temporal.address, 'temporal.example.com:7233');
  assert.equal(config.temporal.namespace, 'rollouts');
  assert.equal(config.temporal.taskQueue, 'cutover-prod');
  assert.equal(config.prometheusUrl, 'http://prometheus.monitoring:9090');
  assert.equal(config.logLevel, 'debug');
  assert.deepEqual(config.http, { address: '::', port: 9100 });
  assert.equal(config.watchNamespace, 'shop');
  assert.equal(config.minIntervalMs, 100);
  assert.equal(config.shutdownGraceMs, 60_000);
});

test('a flag wins over its environment variable', () => {
  const config = load(
    [
      '--temporal-address=flag:7233',
      '--temporal-namespace',
      'from-flag',
      '--task-queue=q',
      '--log-level=warn',
      '--metrics-port=9200',
      '--min-interval=1s',
      '--no-watcher',
    ],
    {
      ...baseEnv,
      TEMPORAL_ADDRESS: 'env:7233',
      TEMPORAL_NAMESPACE: 'from-env',
      CUTOVER_TASK_QUEUE: 'env-q',
      LOG_LEVEL: 'error',
      CUTOVER_METRICS_PORT: '9100',
      CUTOVER_MIN_INTERVAL: '5s',
    },
  );
  assert.equal(config.temporal.address, 'flag:7233');
  assert.equal(config.temporal.namespace, 'from-flag');
  assert.equal(config.temporal.taskQueue, 'q');
  assert.equal(config.logLevel, 'warn');
  assert.equal(config.http.port, 9200);
  assert.equal(config.minIntervalMs, 1000);
  assert.equal(config.watcher, false);
});

test('an empty environment variable counts as unset', () => {
  assert.equal(
    load([], { ...baseEnv, TEMPORAL_ADDRESS: '', LOG_LEVEL: '' }).temporal.address,
    '127.0.0.1:7233',
  );
});

test('in a cluster: the service account, and metrics on every interface', () => {
  const config = load([], { KUBERNETES_SERVICE_HOST: '10.96.0.1' });
  assert.deepEqual(config.kubernetes, { mode: 'in-cluster' });
  assert.equal(config.http.address, '0.0.0.0');
  assert.equal(
    load(['--metrics-address=127.0.0.1'], { KUBERNETES_SERVICE_HOST: '10.96.0.1' }).http.address,
    '127.0.0.1',
  );
});

test('--kubeconfig wins over in-cluster; KUBECONFIG lists several files and skips missing ones', () => {
  const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };
  assert.deepEqual(load(['--kubeconfig', kubeconfig], inCluster).kubernetes, {
    mode: 'kubeconfig',
    paths: [kubeconfig],
  });
  const other = join(dir, 'other.yaml');
  writeFileSync(other, 'apiVersion: v1\nkind: Config\n');
  const config = load([], { KUBECONFIG: [kubeconfig, join(dir, 'missing.yaml'), other].join(':') });
  assert.deepEqual(config.kubernetes, { mode: 'kubeconfig', paths: [kubeconfig, other] });
});

test('outside a cluster without KUBECONFIG: ~/.kube/config, or an error that says how to choose', () => {
  const home = mkdtempSync(join(tmpdir(), 'cutover-home-'));
  assert.equal(
    error([], { HOME: home }),
    `no cluster to talk to: ${join(home, '.kube', 'config')} does not exist; set --kubeconfig or KUBECONFIG, or run in a cluster (KUBERNETES_SERVICE_HOST)`,
  );
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'config'), 'apiVersion: v1\n');
  assert.deepEqual(load([], { HOME: home }).kubernetes, {
    mode: 'kubeconfig',
    paths: [join(home, '.kube', 'config')],
  });
});

test('TLS: off by default, on with --tls, TEMPORAL_TLS=true, certificates, a CA, a server name or an API key', () => {
  assert.equal(load([]).temporal.tls, undefined);
  assert.deepEqual(load(['--tls']).temporal.tls, {});
  assert.deepEqual(load([], { ...baseEnv, TEMPORAL_TLS: 'true' }).temporal.tls, {});
  assert.deepEqual(load(['--tls-cert', cert, '--tls-key', key]).temporal.tls, {
    clientCertPath: cert,
    clientKeyPath: key,
  });
  assert.deepEqual(
    load([], {
      ...baseEnv,
      TEMPORAL_TLS_CERT: cert,
      TEMPORAL_TLS_KEY: key,
      TEMPORAL_TLS_CA: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    }).temporal.tls,
    { clientCertPath: cert, clientKeyPath: key, serverCaPath: ca, serverName: 'temporal.internal' },
  );
  assert.deepEqual(load(['--tls-server-name=temporal.internal']).temporal.tls, {
    serverName: 'temporal.internal',
  });
  const cloud = load(['--api-key=secret', '--temporal-address=ns.acct.tmprl.cloud:7233']).temporal;
  assert.deepEqual(cloud.tls, {});
  assert.equal(cloud.apiKey, 'secret');
  assert.equal(load([], { ...baseEnv, TEMPORAL_API_KEY: 'secret' }).temporal.apiKey, 'secret');
});

test('TEMPORAL_TLS=false keeps an API key in plaintext (a local proxy) but cannot go with certificates', () => {
  const temporal = load([], { ...baseEnv, TEMPORAL_API_KEY: 'secret', TEMPORAL_TLS: 'false' }).temporal;
  assert.equal(temporal.tls, undefined);
  assert.equal(temporal.apiKey, 'secret');
  assert.equal(
    error(['--tls-ca', ca], { ...baseEnv, TEMPORAL_TLS: 'false' }),
    'TEMPORAL_TLS=false contradicts --tls-ca; remove TEMPORAL_TLS or the TLS settings',
  );
});

test('every mistake names the flag or variable and the fix', () => {
  const cases: [string[], NodeJS.ProcessEnv, string][] = [
    [['--metrics-port', 'abc'], baseEnv, "--metrics-port must be a port number (1-65535), got 'abc'"],
    [
      [],
      { ...baseEnv, CUTOVER_METRICS_PORT: '70000' },
      "CUTOVER_METRICS_PORT must be a port number (1-65535), got '70000'",
    ],
    [['--metrics-port=0'], baseEnv, "--metrics-port must be a port number (1-65535), got '0'"],
    [
      ['--metrics-address=localhost:80'],
      baseEnv,
      "--metrics-address must be an IP address to listen on (e.g. 0.0.0.0, 127.0.0.1 or ::), got 'localhost:80'",
    ],
    [
      ['--metrics-address=300.1.1.1'],
      baseEnv,
      "--metrics-address must be an IP address to listen on (e.g. 0.0.0.0, 127.0.0.1 or ::), got '300.1.1.1'",
    ],
    [['--log-level=verbose'], baseEnv, "--log-level must be one of debug|info|warn|error, got 'verbose'"],
    [[], { ...baseEnv, LOG_LEVEL: 'trace' }, "LOG_LEVEL must be one of debug|info|warn|error, got 'trace'"],
    [
      ['--temporal-address=http://temporal:7233'],
      baseEnv,
      "--temporal-address must be host:port without a scheme (e.g. 127.0.0.1:7233), got 'http://temporal:7233'",
    ],
    [
      [],
      { ...baseEnv, TEMPORAL_ADDRESS: 'temporal:port' },
      "TEMPORAL_ADDRESS must be host:port (e.g. 127.0.0.1:7233 or temporal.example.com:7233), got 'temporal:port'",
    ],
    [
      ['--temporal-namespace= '],
      baseEnv,
      '--temporal-namespace must not be empty; leave it out to use the default',
    ],
    [['--task-queue='], baseEnv, '--task-queue must not be empty; leave it out to use the default'],
    [
      ['--prometheus-url=prometheus:9090'],
      baseEnv,
      "--prometheus-url must be an http(s) URL (e.g. http://prometheus.monitoring:9090), got 'prometheus:9090'",
    ],
    [
      [],
      { ...baseEnv, PROMETHEUS_URL: 'not a url' },
      "PROMETHEUS_URL must be an http(s) URL (e.g. http://prometheus.monitoring:9090), got 'not a url'",
    ],
    [
      ['--watch-namespace=Shop'],
      baseEnv,
      "--watch-namespace must be a Kubernetes namespace name (lowercase letters, digits, '-'), or leave it out to watch all namespaces, got 'Shop'",
    ],
    [
      ['--min-interval=10'],
      baseEnv,
      '--min-interval must be a duration: "10" has a number without a unit; add one of ms, s, m, h (e.g. "10s")',
    ],
    [
      [],
      { ...baseEnv, CUTOVER_MIN_INTERVAL: '0s' },
      "CUTOVER_MIN_INTERVAL must be longer than zero, got '0s'",
    ],
    [['--shutdown-grace=-1s'], baseEnv, "--shutdown-grace must be zero or more, got '-1s'"],
    [
      ['--shutdown-grace=1d'],
      baseEnv,
      '--shutdown-grace must be a duration: "1d" uses the unit "d", which Go durations do not have; use ns, us, ms, s, m or h (for days write hours, e.g. "24h")',
    ],
    [[], { ...baseEnv, TEMPORAL_TLS: 'yes' }, "TEMPORAL_TLS must be true or false, got 'yes'"],
    [
      ['--tls-cert', cert],
      baseEnv,
      '--tls-cert is set but the client key is not; set --tls-key or TEMPORAL_TLS_KEY too (mTLS needs both)',
    ],
    [
      [],
      { ...baseEnv, TEMPORAL_TLS_KEY: key },
      'TEMPORAL_TLS_KEY is set but the client certificate is not; set --tls-cert or TEMPORAL_TLS_CERT too (mTLS needs both)',
    ],
    [
      ['--tls-ca', join(dir, 'nope.pem')],
      baseEnv,
      `--tls-ca: '${join(dir, 'nope.pem')}' does not exist; give the path of a readable PEM file`,
    ],
    [
      ['--tls-cert', dir, '--tls-key', key],
      baseEnv,
      `--tls-cert: '${dir}' is not a file; give the path of a readable PEM file`,
    ],
    [
      ['--kubeconfig', join(dir, 'nope.yaml')],
      baseEnv,
      `--kubeconfig: '${join(dir, 'nope.yaml')}' does not exist; point it at a readable kubeconfig file`,
    ],
    [
      [],
      { KUBECONFIG: join(dir, 'nope.yaml') },
      `KUBECONFIG: '${join(dir, 'nope.yaml')}' does not exist; point it at a readable kubeconfig file`,
    ],
    [['--frobnicate'], baseEnv, "unknown flag '--frobnicate'; run with --help for the flags"],
    [['-p', '80'], baseEnv, "unknown flag '-p'; run with --help for the flags"],
    [['extra'], baseEnv, "unexpected argument 'extra'; the worker takes only flags (see --help)"],
    [['--metrics-port'], baseEnv, '--metrics-port needs a value (--metrics-port=value)'],
    [
      ['--metrics-port', '--no-watcher'],
      baseEnv,
      "--metrics-port needs a value but is followed by the flag '--no-watcher'; write --metrics-port=value",
    ],
    [['--tls=false'], baseEnv, '--tls is a switch and takes no value; give just --tls'],
  ];
  for (const [argv, env, message] of cases) assert.equal(error(argv, env), message, JSON.stringify(argv));
});

test(
  'an unreadable file is named with its path',
  { skip: process.getuid?.() === 0 && 'root reads everything' },
  () => {
    const secret = join(dir, 'secret.key');
    writeFileSync(secret, 'pem');
    chmodSync(secret, 0o000);
    assert.equal(
      error(['--tls-cert', cert, '--tls-key', secret]),
      `--tls-key: '${secret}' is not readable by this process; give the path of a readable PEM file`,
    );
  },
);

test('--help is reported, not treated as a mistake', () => {
  assert.equal(load(['--help']).help, true);
});

test('the Temporal SDK metrics port is off unless asked for, by flag or environment', () => {
  assert.equal(load([]).sdkMetricsPort, undefined);
  assert.equal(load(['--sdk-metrics-port', '9464']).sdkMetricsPort, 9464);
  assert.equal(load([], { ...baseEnv, CUTOVER_SDK_METRICS_PORT: '9465' }).sdkMetricsPort, 9465);
  const bad = loadWorkerConfig(['--sdk-metrics-port', 'x'], baseEnv);
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error, /--sdk-metrics-port/);
});

test('scale knobs: flags, their environment variables, and the flag winning', () => {
  const fromEnv = load([], {
    ...baseEnv,
    CUTOVER_MAX_CACHED_WORKFLOWS: '1200',
    CUTOVER_MAX_CONCURRENT_WORKFLOW_TASKS: '60',
    CUTOVER_MAX_CONCURRENT_ACTIVITIES: '300',
    CUTOVER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '150',
    CUTOVER_RECONCILE_CONCURRENCY: '8',
    CUTOVER_MAX_HEAP_MB: '768',
  });
  assert.deepEqual(fromEnv.tuning, {
    maxCachedWorkflows: 1200,
    maxConcurrentWorkflowTasks: 60,
    maxConcurrentActivities: 300,
    maxConcurrentLocalActivities: 150,
    reconcileConcurrency: 8,
  });
  assert.equal(fromEnv.maxHeapMb, 768);
  const fromFlags = load(
    [
      '--max-cached-workflows=0',
      '--max-concurrent-workflow-tasks=10',
      '--max-concurrent-activities',
      '50',
      '--max-concurrent-local-activities=20',
      '--reconcile-concurrency=4',
      '--max-heap-mb=512',
    ],
    { ...baseEnv, CUTOVER_MAX_HEAP_MB: '768', CUTOVER_MAX_CACHED_WORKFLOWS: '1200' },
  );
  assert.deepEqual(fromFlags.tuning, {
    maxCachedWorkflows: 0,
    maxConcurrentWorkflowTasks: 10,
    maxConcurrentActivities: 50,
    maxConcurrentLocalActivities: 20,
    reconcileConcurrency: 4,
  });
  assert.equal(fromFlags.maxHeapMb, 512);
  assert.equal(load([]).maxHeapMb, undefined, "no heap limit by default: Node's own");
});

test('a small cache lowers the default workflow task concurrency to fit it', () => {
  assert.equal(load(['--max-cached-workflows=10']).tuning.maxConcurrentWorkflowTasks, 10);
});

test('bad scale knobs name the flag or variable and what is allowed', () => {
  assert.equal(
    error(['--max-cached-workflows=lots']),
    "--max-cached-workflows must be a whole number, got 'lots'",
  );
  assert.equal(
    error(['--max-cached-workflows=1']),
    "--max-cached-workflows must be 0 (no cache) or at least 2, got '1'",
  );
  assert.equal(
    error([], { ...baseEnv, CUTOVER_MAX_CONCURRENT_ACTIVITIES: '0' }),
    "CUTOVER_MAX_CONCURRENT_ACTIVITIES must be at least 1, got '0'",
  );
  assert.equal(
    error(['--max-concurrent-workflow-tasks=1']),
    "--max-concurrent-workflow-tasks must be at least 2 (the SDK needs two for a cached workflow), got '1'",
  );
  assert.equal(
    error(['--max-cached-workflows=20', '--max-concurrent-workflow-tasks=40']),
    '--max-concurrent-workflow-tasks (40) must not exceed the workflow cache (--max-cached-workflows 20); lower it or raise the cache',
  );
  assert.equal(
    error(['--max-heap-mb=64']),
    "--max-heap-mb must be at least 128 (MiB; the worker needs about 150 MiB before its first rollout), got '64'",
  );
  assert.equal(
    error(['--reconcile-concurrency=-1']),
    "--reconcile-concurrency must be a whole number, got '-1'",
  );
});

test('the help text documents every scale knob with its default', () => {
  for (const text of [
    '--max-cached-workflows',
    'CUTOVER_MAX_CACHED_WORKFLOWS',
    `default ${defaultTuning.maxCachedWorkflows}`,
    '--max-concurrent-workflow-tasks',
    `default ${defaultTuning.maxConcurrentWorkflowTasks}`,
    '--max-concurrent-activities',
    `default ${defaultTuning.maxConcurrentActivities}`,
    '--max-concurrent-local-activities',
    `default ${defaultTuning.maxConcurrentLocalActivities}`,
    '--reconcile-concurrency',
    `default ${defaultTuning.reconcileConcurrency}`,
    '--max-heap-mb',
    'CUTOVER_MAX_HEAP_MB',
  ]) {
    assert.ok(workerUsage.includes(text), text);
  }
});

test('the Temporal UI address for the rollout links in alerts: none by default, from the flag or TEMPORAL_UI_URL', () => {
  assert.equal(load([]).temporalUiUrl, undefined);
  assert.equal(
    load([], { ...baseEnv, TEMPORAL_UI_URL: 'https://temporal.example.com/' }).temporalUiUrl,
    'https://temporal.example.com',
  );
  assert.equal(
    load(['--temporal-ui-url', 'http://127.0.0.1:8233'], { ...baseEnv, TEMPORAL_UI_URL: 'https://other' })
      .temporalUiUrl,
    'http://127.0.0.1:8233',
  );
  assert.equal(
    error(['--temporal-ui-url', 'temporal-ui:8080']),
    "--temporal-ui-url must be an http(s) URL (e.g. https://temporal-ui.example.com), got 'temporal-ui:8080'",
  );
  assert.match(workerUsage, /--temporal-ui-url url +TEMPORAL_UI_URL/);
});
