// Benchmark: N Canaries on one `cutover worker` process (or K of them on one task queue), all released
// at once, the way a platform team would try Cutover. Each Canary has KWOK-only pods (an image the
// pod runner starts no process for), a rollout webhook on a receiver on 127.0.0.1 and a MetricTemplate
// query on the stack's Prometheus every tick. Prints figures; asserts nothing.
//
//   npm run bench:scale -- --canaries 100 [--workers 2] [--interval 10s] [--iterations 10] [--keep]
//                          [--profile DIR] [--worker-arg=--flag=value …]
//
// Reuses the local stack when it is up (else starts it and leaves it up) and deletes its namespace at
// the end (--keep leaves the namespace for a look). Worker logs go to files in the temp directory.
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../canary/duration.ts';
import { applyCrds } from '../client/crds.ts';
import { kubeClient } from '../stack/cluster.ts';
import { localPorts, stackEndpoints } from '../stack/endpoints.ts';
import { sleep } from '../stack/processes.ts';
import { stackUp } from '../stack/stack.ts';
import { freeLocalPort } from '../stack/tcp-proxy.ts';
import { repoRoot } from '../stack/tools.ts';
import { startWebhookReceiver } from '../test/support/webhook-receiver.ts';

const { values } = parseArgs({
  options: {
    canaries: { type: 'string', default: '20' },
    workers: { type: 'string', default: '1' },
    interval: { type: 'string', default: '10s' },
    iterations: { type: 'string', default: '10' },
    keep: { type: 'boolean', default: false },
    'worker-arg': { type: 'string', multiple: true, default: [] },
    /** Write a V8 CPU profile of each worker into this directory (when it exits). */
    profile: { type: 'string' },
  },
});
const count = Number(values.canaries);
const workerCount = Number(values.workers);
const iterations = Number(values.iterations);
const interval = values.interval ?? '10s';
const parsedInterval = parseDuration(interval);
if (!parsedInterval.ok) throw new Error(`--interval: ${parsedInterval.reason}`);
const intervalMs = parsedInterval.ms;
if (!Number.isInteger(count) || count < 1) throw new Error('--canaries must be a whole number ≥ 1');
if (!Number.isInteger(workerCount) || workerCount < 1)
  throw new Error('--workers must be a whole number ≥ 1');

const endpoints = stackEndpoints();
const runId = `${Date.now().toString(36)}`;
const ns = `bench-scale-${runId}`;
const taskQueue = `bench-scale-${runId}`;
const imageBefore = 'registry.k8s.io/pause:3.10';
const imageAfter = 'registry.k8s.io/pause:3.9';
const names = Array.from({ length: count }, (_, i) => `app-${i}`);
const clockTicks = 100; // USER_HZ on Linux; /proc/<pid>/stat counts CPU time in these.

// ---- small helpers --------------------------------------------------------------------------------

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

function summary(values: number[], unit = 's', scale = 1000): string {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (v: number): string => `${(v / scale).toFixed(scale === 1000 ? 2 : 0)}${unit}`;
  return `p50 ${f(quantile(sorted, 0.5))}, p99 ${f(quantile(sorted, 0.99))}, max ${f(sorted.at(-1) ?? NaN)} (n=${sorted.length})`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** The worker's heap after its latest full GC, or why there is no figure yet. */
function heapFigure(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a (no full GC yet)' : mib(bytes);
}

/** Resident set size of a process, from /proc/<pid>/status. */
function rssBytes(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds of a process (all its threads), from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return Number.NaN;
  }
}

/** Processes of the stack whose command line matches (to report their CPU next to the worker's). */
function findPids(match: (argv: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (match(argv)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const stackProcesses = {
  temporal: () =>
    findPids(
      (argv) =>
        (argv[0] ?? '').endsWith('temporal') &&
        argv.includes('start-dev') &&
        argv.includes(String(localPorts.temporal)),
    ),
  'kube-apiserver': () =>
    findPids(
      (argv) =>
        (argv[0] ?? '').endsWith('kube-apiserver') &&
        argv.some((a) => a === `--secure-port=${localPorts.kubeApiserver}`),
    ),
};

function stackCpu(): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, pids] of Object.entries(stackProcesses)) {
    result[name] = pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  }
  return result;
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

// ---- the worker processes -------------------------------------------------------------------------

interface BenchWorker {
  pid: number;
  metricsUrl: string;
  readyMs: number;
  logFile: string;
  peakRss: number;
  stop(): Promise<void>;
}

async function startWorker(index: number): Promise<BenchWorker> {
  const port = await freeLocalPort();
  const logFile = join(tmpdir(), `${taskQueue}-worker-${index}.log`);
  const log = createWriteStream(logFile);
  const started = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repoRoot, 'client', 'cli.ts'),
      'worker',
      '--watch-namespace',
      ns,
      '--task-queue',
      taskQueue,
      '--metrics-port',
      String(port),
      '--metrics-address',
      '127.0.0.1',
      '--min-interval',
      formatMs(Math.min(intervalMs, 10_000)),
      '--log-level',
      'warn',
      ...(values['worker-arg'] ?? []),
    ],
    {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: endpoints.temporalAddress,
        TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
        KUBECONFIG: endpoints.kubeconfig,
        PROMETHEUS_URL: endpoints.prometheusUrl,
        // As the image sets it (Dockerfile), unless the caller chose another.
        MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
        ...(values.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${values.profile}` } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metricsUrl = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cutover worker exited early; see ${logFile}`);
    const ready = await fetch(`${metricsUrl}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() - started > 60_000) throw new Error(`cutover worker not ready after 60 s; see ${logFile}`);
    await sleep(50);
  }
  const worker: BenchWorker = {
    pid: child.pid as number,
    metricsUrl,
    readyMs: Date.now() - started,
    logFile,
    peakRss: 0,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  return worker;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

async function metricValue(worker: BenchWorker, name: string): Promise<number | undefined> {
  const text = await fetch(`${worker.metricsUrl}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

// ---- the Canaries ---------------------------------------------------------------------------------

const kubeconfig = kubeClient(endpoints.kubeconfig);
const core = kubeconfig.makeApiClient(k8s.CoreV1Api);
const apps = kubeconfig.makeApiClient(k8s.AppsV1Api);
const custom = kubeconfig.makeApiClient(k8s.CustomObjectsApi);

function deployment(name: string): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        // Not podinfo: the pod runner starts no process, KWOK alone runs and readies the pod.
        spec: {
          containers: [{ name: 'app', image: imageBefore, ports: [{ name: 'http', containerPort: 9898 }] }],
        },
      },
    },
  };
}

function canary(name: string, hookUrl: string): Record<string, unknown> {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace: ns },
    spec: {
      provider: 'kubernetes',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      // A busy cluster must slow the bench down, not fail it.
      progressDeadlineSeconds: 600,
      service: { port: 9898, targetPort: 'http' },
      analysis: {
        interval,
        iterations,
        threshold: 2,
        metrics: [
          {
            name: 'prometheus-up',
            templateRef: { name: 'bench-query', namespace: ns },
            thresholdRange: { min: 0 },
            interval: '1m',
          },
        ],
        webhooks: [{ name: 'tick', type: 'rollout', url: hookUrl, timeout: '5s' }],
      },
    },
  };
}

interface CanaryState {
  name: string;
  phase: string;
  lastPromotedSpec?: string;
  message?: string;
}

async function canaryStates(): Promise<CanaryState[]> {
  const list = (await custom.listNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: ns,
    plural: 'canaries',
  })) as {
    items: {
      metadata: { name: string };
      status?: { phase?: string; lastPromotedSpec?: string; conditions?: { message?: string }[] };
    }[];
  };
  return list.items.map((c) => ({
    name: c.metadata.name,
    phase: c.status?.phase ?? '',
    lastPromotedSpec: c.status?.lastPromotedSpec,
    message: c.status?.conditions?.[0]?.message,
  }));
}

/** Polls until `done` holds for every Canary (or the time is up); returns when each first did. */
async function waitForAll(
  what: string,
  done: (state: CanaryState) => boolean,
  timeoutMs: number,
  workers: BenchWorker[],
): Promise<{ at: Map<string, number>; states: CanaryState[] }> {
  const at = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  let states: CanaryState[] = [];
  let lastReport = Date.now();
  while (Date.now() < deadline) {
    states = await canaryStates().catch(() => states);
    const now = Date.now();
    for (const state of states) if (!at.has(state.name) && done(state)) at.set(state.name, now);
    for (const worker of workers) worker.peakRss = Math.max(worker.peakRss, rssBytes(worker.pid));
    if (at.size >= count) break;
    if (now - lastReport > 15_000) {
      const phases: Record<string, number> = {};
      for (const s of states) phases[s.phase || 'none'] = (phases[s.phase || 'none'] ?? 0) + 1;
      process.stderr.write(`  … ${what}: ${at.size}/${count} (${JSON.stringify(phases)})\n`);
      lastReport = now;
    }
    await sleep(500);
  }
  return { at, states };
}

// ---- history figures ------------------------------------------------------------------------------

interface HistoryFigures {
  events: number;
  actions: number;
}

/**
 * Events in a rollout's history, and an estimate of its billable Temporal actions: the start, every
 * activity scheduled, timer started, local activity (its marker), signal, search attribute upsert and
 * child workflow, as Temporal Cloud counts them (heartbeats and workflow tasks are free).
 */
async function historyFigures(client: Client, workflowId: string): Promise<HistoryFigures> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  let actions = 0;
  for (const e of events) {
    if (
      e.workflowExecutionStartedEventAttributes ||
      e.activityTaskScheduledEventAttributes ||
      e.timerStartedEventAttributes ||
      e.workflowExecutionSignaledEventAttributes ||
      e.upsertWorkflowSearchAttributesEventAttributes ||
      e.startChildWorkflowExecutionInitiatedEventAttributes ||
      (e.markerRecordedEventAttributes &&
        e.markerRecordedEventAttributes.markerName === 'core_local_activity')
    ) {
      actions += 1;
    }
  }
  return { events: events.length, actions };
}

// ---- the run ----------------------------------------------------------------------------------------

await stackUp();
await applyCrds(kubeconfig);
const connection = await Connection.connect({ address: endpoints.temporalAddress });
const client = new Client({ connection, namespace: endpoints.temporalNamespace });
const receiver = await startWebhookReceiver();
const workers: BenchWorker[] = [];

try {
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await custom.createNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: ns,
    plural: 'metrictemplates',
    body: {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'MetricTemplate',
      metadata: { name: 'bench-query', namespace: ns },
      spec: {
        provider: { type: 'prometheus', address: endpoints.prometheusUrl },
        query: 'count(up) or vector(0)',
      },
    },
  });
  await inBatches(names, 20, async (name) => {
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment(name) });
  });

  for (let i = 0; i < workerCount; i++) workers.push(await startWorker(i));
  const cpuAtStart = workers.map((w) => cpuSeconds(w.pid));
  const rssAtStart = workers.map((w) => rssBytes(w.pid));

  // Initialisation: every Canary created at once, timed until the last one is Initialized.
  const initStarted = Date.now();
  await inBatches(names, 20, async (name) => {
    await custom.createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural: 'canaries',
      body: canary(name, receiver.url('/tick')),
    });
  });
  const initialized = await waitForAll(
    'initialised',
    (s) => s.phase === 'Initialized' || s.phase === 'Failed',
    Math.max(300_000, count * 1_000),
    workers,
  );
  const initMs = Math.max(...initialized.at.values()) - initStarted;
  const initFailed = initialized.states.filter((s) => s.phase !== 'Initialized');
  const cpuAfterInit = workers.map((w) => cpuSeconds(w.pid));

  await sleep(10_000);
  const idleRss = workers.map((w) => rssBytes(w.pid));
  const idleHeap = await Promise.all(workers.map((w) => metricValue(w, 'cutover_heap_used_after_gc_bytes')));
  const promotedBefore = new Map(initialized.states.map((s) => [s.name, s.lastPromotedSpec]));

  // The release: every target gets a new image at once.
  const releasedAt = new Map<string, number>();
  const releaseStarted = Date.now();
  const cpuAtRelease = workers.map((w) => cpuSeconds(w.pid));
  const stackCpuAtRelease = stackCpu();
  const loadAtRelease = loadavg()[0] ?? 0;
  await inBatches(names, 50, async (name) => {
    await apps.patchNamespacedDeployment(
      {
        name,
        namespace: ns,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: imageAfter }] } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    releasedAt.set(name, Date.now());
  });
  const releaseSpreadMs = Date.now() - releaseStarted;
  const finished = await waitForAll(
    'finished',
    (s) =>
      (s.phase === 'Succeeded' && s.lastPromotedSpec !== promotedBefore.get(s.name)) || s.phase === 'Failed',
    Math.max(600_000, iterations * intervalMs * 10 + count * 1_000),
    workers,
  );
  const cpuAtEnd = workers.map((w) => cpuSeconds(w.pid));
  const stackCpuAtEnd = stackCpu();

  // Ticks: the receiver's calls per canary after the release, against a fixed cadence from the first.
  const lateness: number[] = [];
  const firstHook: number[] = [];
  for (const name of names) {
    const calls = receiver.calls
      .filter((c) => c.path === '/tick' && c.body.name === name && c.at >= (releasedAt.get(name) ?? 0))
      .map((c) => c.at)
      .sort((a, b) => a - b);
    const first = calls[0];
    if (first === undefined) continue;
    firstHook.push(first - (releasedAt.get(name) ?? first));
    calls.forEach((at, k) => {
      if (k > 0) lateness.push(at - (first + k * intervalMs));
    });
  }
  const finishTimes = names.flatMap((name) => {
    const end = finished.at.get(name);
    const start = releasedAt.get(name);
    return end === undefined || start === undefined ? [] : [end - start];
  });

  await sleep(10_000);
  const heapAfter = await Promise.all(workers.map((w) => metricValue(w, 'cutover_heap_used_after_gc_bytes')));
  const gcAt = await Promise.all(
    workers.map((w) => metricValue(w, 'cutover_heap_last_full_gc_timestamp_seconds')),
  );
  const endRss = workers.map((w) => rssBytes(w.pid));

  // History: a sample of the rollouts started after the release.
  const sample: HistoryFigures[] = [];
  const query = `CutoverNamespace = '${ns}' AND StartTime > '${new Date(releaseStarted - 1000).toISOString()}'`;
  for await (const execution of client.workflow.list({ query })) {
    if (sample.length >= 5) break;
    sample.push(await historyFigures(client, execution.workflowId));
  }

  const failed = finished.states.filter(
    (s) => !(s.phase === 'Succeeded' && s.lastPromotedSpec !== promotedBefore.get(s.name)),
  );
  const idealMs = iterations * intervalMs;
  const out: string[] = [];
  out.push(
    `scale benchmark: ${count} canaries, ${workerCount} worker${workerCount > 1 ? 's' : ''}, interval ${interval}, ${iterations} iterations (ideal ${(idealMs / 1000).toFixed(0)} s), KWOK-only pods, 1 rollout hook + 1 MetricTemplate query per tick, MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? 2}`,
  );
  out.push(
    `  machine load average (1 min): ${loadAtRelease.toFixed(1)} at the release, ${(loadavg()[0] ?? 0).toFixed(1)} at the end`,
  );
  out.push(
    `  worker ready (spawn → /readyz 200): ${workers.map((w) => `${(w.readyMs / 1000).toFixed(2)}s`).join(', ')}`,
  );
  out.push(
    `  initialise all: ${(initMs / 1000).toFixed(1)} s${initFailed.length > 0 ? ` (${initFailed.length} not Initialized)` : ''}`,
  );
  out.push(`  release: ${count} patches in ${(releaseSpreadMs / 1000).toFixed(1)} s`);
  out.push(`  release → finished: ${summary(finishTimes)}; ideal ${(idealMs / 1000).toFixed(0)} s`);
  out.push(`  release → first rollout hook: ${summary(firstHook)}`);
  out.push(`  tick lateness (vs first tick + k × interval): ${summary(lateness)}`);
  for (const [i, w] of workers.entries()) {
    out.push(
      `  worker ${i} (pid ${w.pid}): RSS start ${mib(rssAtStart[i] ?? 0)}, idle ${mib(idleRss[i] ?? 0)}, peak ${mib(w.peakRss)}, end ${mib(endRss[i] ?? 0)}; ` +
        `heap after GC idle ${heapFigure(idleHeap[i])}, end ${heapFigure(heapAfter[i])} (last full GC ${gcAt[i] ? `${(Date.now() / 1000 - gcAt[i]).toFixed(0)} s ago` : 'not yet'})`,
    );
    out.push(
      `    CPU s: initialisation ${((cpuAfterInit[i] ?? 0) - (cpuAtStart[i] ?? 0)).toFixed(1)}, release → finished ${((cpuAtEnd[i] ?? 0) - (cpuAtRelease[i] ?? 0)).toFixed(1)}, total ${(cpuAtEnd[i] ?? 0).toFixed(1)}`,
    );
  }
  out.push(
    `  stack CPU s during release → finished: ${Object.entries(stackCpuAtEnd)
      .map(([name, cpu]) => `${name} ${(cpu - (stackCpuAtRelease[name] ?? 0)).toFixed(1)}`)
      .join(', ')}`,
  );
  if (sample.length > 0) {
    const avg = (key: keyof HistoryFigures): string =>
      (sample.reduce((sum, s) => sum + s[key], 0) / sample.length).toFixed(1);
    out.push(
      `  per rollout (sample of ${sample.length}): ${avg('events')} history events, ~${avg('actions')} actions (${(Number(avg('events')) / iterations).toFixed(1)} events per iteration)`,
    );
  }
  out.push(`  failures: ${failed.length} of ${count} not Succeeded`);
  for (const f of failed.slice(0, 5)) out.push(`    ${f.name}: ${f.phase || 'no phase'} ${f.message ?? ''}`);
  out.push(`  worker logs: ${workers.map((w) => w.logFile).join(', ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  for (const w of workers) await w.stop();
  if (values.keep) process.stdout.write(`kept namespace ${ns}\n`);
  else await core.deleteNamespace({ name: ns }).catch(() => undefined);
  await receiver.close();
  await connection.close();
}
