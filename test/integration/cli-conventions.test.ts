// The command line's conventions on the real stack: `kubectl cutover` through the real kubectl,
// kubectl's namespace flags (-n, -A, --context, the context's namespace), one-line errors with their
// exit codes, each command with one backend down (the API server, then Temporal, at closed local
// ports), a `watch` that loses Temporal (a loopback proxy cut and restored) and carries on, and a
// worker whose log stays JSON while Temporal is away.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { startRollout } from '../../client/rollouts.ts';
import { cacheDir } from '../../stack/tools.ts';
import { endpoints, podinfoImage } from '../support/cluster.ts';
import { setupScenario } from '../support/scenario.ts';
import type { Scenario } from '../support/scenario.ts';
import { startTestWorker } from '../support/worker.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { TestWorker } from '../support/worker.ts';
import { statusQuery } from '../../workflows/messages.ts';
import type { HistoryEntry, ListRow, RunningView } from '../../client/format.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const versions = readFileSync(join(repo, 'scripts/versions.env'), 'utf8');
const setting = (name: string): string => new RegExp(`^${name}=(.*)$`, 'm').exec(versions)?.[1] ?? '';
const kubectlDir = join(
  cacheDir(),
  'kubernetes',
  `${setting('KUBERNETES_VERSION')}-${setting('KUBERNETES_BUILD')}`,
  'bin',
);
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

const { CUTOVER_USER: _callersIdentity, NO_COLOR: _noColor, ...inherited } = process.env;
const baseEnv = {
  ...inherited,
  TEMPORAL_ADDRESS: endpoints.temporalAddress,
  TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
  TEMPORAL_UI_URL: endpoints.temporalUiUrl,
  KUBECONFIG: endpoints.kubeconfig,
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  stdout: () => string;
  stderr: () => string;
  done: Promise<Run>;
  kill: () => void;
}

function spawnRun(command: string, args: string[], env: Record<string, string | undefined>): Running {
  // An `undefined` value removes the variable (a test runs as a user's terminal would, not as CI).
  const merged = Object.fromEntries(
    Object.entries({ ...baseEnv, ...env }).filter(([, value]) => value !== undefined),
  );
  const child = spawn(command, args, {
    cwd: repo,
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { stdout: () => stdout, stderr: () => stderr, done, kill: () => void child.kill('SIGINT') };
}

/** `cutover ARGS` as a user runs it from a clone (bin/cutover, the project's Node). */
function cutover(args: string[], env: Record<string, string | undefined> = {}): Running {
  return spawnRun(join(repo, 'bin', 'cutover'), args, env);
}

async function run(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return cutover(args, env).done;
}

async function json<T>(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ value: T; stderr: string }> {
  const done = await run([...args, '-o', 'json'], env);
  assert.equal(done.code, 0, done.stderr);
  return { value: JSON.parse(done.stdout) as T, stderr: done.stderr };
}

/** An error is one line, `cutover: …`, with its exit code, and never a stack trace. */
function assertOneLine(done: Run, code: number, message: RegExp): void {
  assert.equal(done.code, code, `exit code; stderr: ${done.stderr}`);
  const lines = done.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${done.stderr}`);
  assert.match(lines[0] ?? '', /^cutover: /);
  assert.match(lines[0] ?? '', message);
  assert.doesNotMatch(done.stderr, /\n\s+at /, 'no stack trace');
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A loopback TCP proxy to Temporal that can be cut (every connection dropped, the port closed) and restored. */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly port: number;
  private readonly target: { host: string; port: number };

  constructor(port: number, target: string) {
    this.port = port;
    const [host = '127.0.0.1', targetPort = '7233'] = target.split(':');
    this.target = { host, port: Number(targetPort) };
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    const server = createServer((socket) => {
      const upstream = connect(this.target);
      for (const s of [socket, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

let worker: TestWorker;
let scenario: Scenario;
let canary: string;
let rollout: WorkflowHandle;
let dir: string;
/** The stack's kubeconfig with the scenario's namespace on its context, and a second context `other`. */
let contextKubeconfig: string;
/** The stack's kubeconfig with the API server at a closed local port. */
let downKubeconfig: string;
let downTemporal: string;

before(async () => {
  worker = await startTestWorker('cli-conventions');
  scenario = await setupScenario(worker, 'cli-conv', { interval: '500ms', iterations: 1000, threshold: 3 });
  canary = `${scenario.namespace}/${scenario.name}`;
  const revision = await scenario.changeTarget(['--ui-message=conventions']);
  const started = await startRollout(worker.client, {
    canary: scenario.canary,
    canaryUid: scenario.uid,
    revision,
    images: { from: podinfoImage, to: podinfoImage },
    options: { readinessPollMs: 200, prometheusUrl: endpoints.prometheusUrl },
    taskQueue: worker.taskQueue,
  });
  rollout = started.handle;
  await until('an analysed iteration', async () =>
    (await rollout.query(statusQuery)).iteration >= 1 ? true : undefined,
  );

  dir = mkdtempSync(join(tmpdir(), 'cutover-cli-conventions-'));
  type Kubeconfig = {
    clusters: { name: string; cluster: { server: string } }[];
    contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
    'current-context': string;
  };
  const original = parse(readFileSync(endpoints.kubeconfig, 'utf8')) as Kubeconfig;
  const withContexts = structuredClone(original);
  const current = withContexts.contexts.find((c) => c.name === withContexts['current-context']);
  assert.ok(current, 'the stack kubeconfig has a current context');
  withContexts.contexts = [
    { name: current.name, context: { ...current.context, namespace: scenario.namespace } },
    { name: 'other', context: { ...current.context, namespace: 'default' } },
  ];
  contextKubeconfig = join(dir, 'contexts.yaml');
  writeFileSync(contextKubeconfig, stringify(withContexts));
  const down = structuredClone(original);
  const port = await closedPort();
  for (const cluster of down.clusters) cluster.cluster.server = `https://127.0.0.1:${port}`;
  downKubeconfig = join(dir, 'down.yaml');
  writeFileSync(downKubeconfig, stringify(down));
  downTemporal = `127.0.0.1:${await closedPort()}`;
});

after(async () => {
  await scenario?.remove();
  await worker?.stop();
});

test('kubectl cutover: the real kubectl finds bin/kubectl-cutover on PATH and runs it', async () => {
  const path = `${join(repo, 'bin')}${delimiter}${kubectlDir}${delimiter}${process.env.PATH ?? ''}`;
  const kubectl = join(kubectlDir, 'kubectl');
  const versionRun = await spawnRun(kubectl, ['cutover', '--version'], { PATH: path }).done;
  assert.equal(versionRun.code, 0, versionRun.stderr);
  assert.equal(versionRun.stdout, `${version}\n`);
  const list = await spawnRun(kubectl, ['cutover', 'list', '-n', scenario.namespace, '-o', 'json'], {
    PATH: path,
  }).done;
  assert.equal(list.code, 0, list.stderr);
  const rows = JSON.parse(list.stdout) as ListRow[];
  assert.deepEqual(
    rows.map((r) => `${r.namespace}/${r.name}`),
    [canary],
  );
  const typo = await spawnRun(kubectl, ['cutover', 'lsit'], { PATH: path }).done;
  assertOneLine(typo, 64, /^cutover: unknown command 'lsit' \(did you mean list\?\); kubectl cutover --help/);
});

test('list and history show the image the rollout brings', async () => {
  const { value: rows } = await json<ListRow[]>(['list', '-n', scenario.namespace]);
  assert.equal(rows[0]?.image, podinfoImage);
  const text = await run(['list', '-n', scenario.namespace]);
  assert.match(
    text.stdout,
    new RegExp(`^${canary}\\s+\\S+\\s+\\S+\\s+${podinfoImage.replace(/\./g, '\\.')}\\s`, 'm'),
  );
  const { value: entries } = await json<HistoryEntry[]>(['history', canary]);
  assert.equal(entries.find((e) => e.kind === 'rollout')?.image, podinfoImage);
});

test("namespaces as kubectl: the context's namespace, -n, --context, -A, --canary-namespace; the Temporal one is --temporal-namespace", async () => {
  const env = { KUBECONFIG: contextKubeconfig };
  const { value: rows } = await json<ListRow[]>(['list'], env);
  assert.deepEqual(
    rows.map((r) => `${r.namespace}/${r.name}`),
    [canary],
    "list: the context's namespace",
  );
  const { value: status } = await json<RunningView & { running: boolean }>(['status', scenario.name], env);
  assert.equal(status.running, true);
  assert.equal(status.workflowId, rollout.workflowId);
  // Another context, whose namespace is default: the bare name is looked for there.
  assertOneLine(
    await run(['status', scenario.name, '--context', 'other'], env),
    2,
    /canary default\/podinfo not found/,
  );
  assert.equal(
    (await run(['status', scenario.name, '--context', 'other', '-n', scenario.namespace], env)).code,
    0,
  );
  assert.equal((await run(['status', scenario.name, '--canary-namespace', scenario.namespace])).code, 0);
  const { value: all } = await json<ListRow[]>(['list', '-A']);
  assert.ok(all.some((r) => `${r.namespace}/${r.name}` === canary));
  assertOneLine(
    await run(['list', '-A', '-n', scenario.namespace]),
    64,
    /-A .* and -n NAMESPACE exclude each other/,
  );
  assertOneLine(
    await run(['history', canary, '--temporal-namespace', 'no-such-namespace']),
    64,
    /has no namespace no-such-namespace: fix --temporal-namespace/,
  );
});

test('every mistake is one line with its exit code and, for a typo, the nearest flag or command', async () => {
  assertOneLine(
    await run(['list', '--namspace', 'x']),
    64,
    /unknown option '--namspace' \(did you mean --namespace\?\)/,
  );
  assertOneLine(await run(['stauts', canary]), 64, /unknown command 'stauts' \(did you mean status\?\)/);
  assertOneLine(await run(['status', canary, '-n']), 64, /argument missing/);
  assertOneLine(await run(['status']), 64, /name the canary/);
  assertOneLine(await run(['-o', 'yaml', 'list']), 64, /--output must be text or json/);
  assertOneLine(
    await run(['list', '--context', 'nope'], { KUBECONFIG: contextKubeconfig }),
    64,
    /--context nope is not in .*; it has/,
  );
  assertOneLine(await run(['status', `${scenario.namespace}/nope`]), 2, /canary .*\/nope not found/);
  assertOneLine(await run(['completion', 'fish']), 64, /completion needs a shell: bash or zsh/);
  const bash = await run(['completion', 'bash']);
  assert.equal(bash.code, 0);
  assert.match(bash.stdout, /complete -F _cutover cutover kubectl-cutover/);
});

test('with the API server down, what needs only Temporal still works and says what it skipped', async () => {
  const env = { KUBECONFIG: downKubeconfig };
  const list = await json<ListRow[]>(['list', '-n', scenario.namespace], env);
  assert.deepEqual(
    list.value.map((r) => [`${r.namespace}/${r.name}`, r.rollout?.workflowId]),
    [[canary, rollout.workflowId]],
  );
  assert.match(
    list.stderr,
    /^cutover: warning: cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ .*listing the rollouts Temporal has running instead\n$/,
  );
  const status = await json<RunningView & { running: boolean }>(['status', canary], env);
  assert.equal(status.value.running, true);
  assert.match(status.stderr, /showing the rollout from Temporal alone/);
  const history = await json<HistoryEntry[]>(['history', canary], env);
  assert.ok(history.value.some((e) => e.workflowId === rollout.workflowId));
  const watch = cutover(['watch', canary, '-o', 'json'], env);
  try {
    await until('a status line from watch', () =>
      watch.stdout().includes('"type":"status"') ? true : undefined,
    );
    assert.match(
      watch.stderr(),
      /cannot reach the Kubernetes API .*following the rollout from Temporal alone/,
    );
  } finally {
    watch.kill();
    await watch.done;
  }
  // A RolloutAction needs the API server: one line, and the way that does not.
  assertOneLine(
    await run(['abort', canary, '--reason', 'x'], env),
    5,
    /cannot reach the Kubernetes API .*--direct/,
  );
});

test('with Temporal down, what needs only the cluster still works; what needs Temporal is one line, exit 4', async () => {
  const env = { TEMPORAL_ADDRESS: downTemporal };
  const list = await json<ListRow[]>(['list', '-n', scenario.namespace], env);
  assert.deepEqual(
    list.value.map((r) => `${r.namespace}/${r.name}`),
    [canary],
  );
  assert.ok(list.value[0]?.phase, 'the phase from the Canary status');
  assert.match(
    list.stderr,
    /^cutover: warning: cannot reach Temporal at 127\.0\.0\.1:\d+ .*listing the Canaries' own status instead\n$/,
  );
  const status = await json<{ running: boolean; canary: { name: string } }>(['status', canary], env);
  assert.equal(status.value.running, false);
  assert.equal(status.value.canary.name, scenario.name);
  assert.match(status.stderr, /showing the Canary's own status/);
  const unreachable = /cannot reach Temporal at 127\.0\.0\.1:\d+ .*TEMPORAL_ADDRESS/;
  assertOneLine(await run(['history', canary], env), 4, unreachable);
  assertOneLine(await run(['watch', canary], env), 4, unreachable);
  assertOneLine(await run(['abort', canary, '--reason', 'x', '--direct'], env), 4, unreachable);
});

test('watch loses Temporal, says it is retrying, carries on when it is back, and sees an abort sent with the API server down', async () => {
  const proxy = new CuttableProxy(await closedPort(), endpoints.temporalAddress);
  await proxy.open();
  const watch = cutover(['watch', canary, '-o', 'json', '--interval', '200'], {
    TEMPORAL_ADDRESS: proxy.address,
  });
  try {
    await until('a first status line', () => (watch.stdout().includes('"type":"status"') ? true : undefined));
    await proxy.cut();
    await until('the lost-connection notice', () =>
      /lost Temporal at .* retrying every/.test(watch.stderr()) ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    await proxy.open();
    await until(
      'the notice that Temporal is back',
      () => (/answers again/.test(watch.stderr()) ? true : undefined),
      60_000,
    );
    // abort signals the rollout in Temporal: it needs no API server.
    const abort = await run(['abort', canary, '--reason', 'conventions test', '--direct', '--as', 'tester'], {
      KUBECONFIG: downKubeconfig,
    });
    assert.equal(abort.code, 0, abort.stderr);
    assert.match(
      abort.stderr,
      /^cutover: warning: cannot reach the Kubernetes API .*not checking that the Canary exists\n$/,
    );
    const done = await watch.done;
    assert.equal(done.code, 1, done.stderr);
    const end = done.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; outcome?: string })
      .find((event) => event.type === 'end');
    assert.equal(end?.outcome, 'rolled-back');
    assert.doesNotMatch(done.stderr, /\n\s+at /);
  } finally {
    await proxy.cut();
  }
});

test("the worker's log stays JSON lines while Temporal is away, the Core's own lines included", async () => {
  const proxy = new CuttableProxy(await closedPort(), endpoints.temporalAddress);
  await proxy.open();
  const worker = await startWorkerProcess({
    namespace: `${scenario.namespace}-none`,
    taskQueue: `cli-conventions-log-${Date.now().toString(36)}`,
    extraArgs: ['--temporal-address', proxy.address],
  });
  try {
    const before = worker.logs().length;
    await proxy.cut();
    // The Core retries its polls and says so: those lines must arrive as JSON too.
    await until(
      'a log line about the lost connection',
      () => (worker.logs().slice(before).trim() !== '' ? true : undefined),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 5_000));
    const lines = worker.logs().trim().split('\n');
    for (const line of lines) {
      assert.doesNotThrow(() => JSON.parse(line) as unknown, `not JSON: ${line}`);
    }
    assert.ok(!worker.logs().includes('\u001b['), 'no terminal colours');
    const levels = lines.map((line) => (JSON.parse(line) as { level?: unknown }).level);
    assert.ok(
      levels.every((level) => ['debug', 'info', 'warn', 'error'].includes(String(level))),
      String(levels),
    );
  } finally {
    await proxy.open().catch(() => undefined);
    await worker.stop();
    await proxy.cut();
  }
});

test('colour only on a terminal, and never with NO_COLOR', async (t) => {
  // util-linux's `script` gives the command a pseudo-terminal.
  const probe = await spawnRun('sh', ['-c', 'command -v script'], {}).done;
  if (probe.code !== 0) return t.skip('no `script` to give the CLI a terminal');
  // A person's terminal: a TERM that has colours and no CI variable (Node takes CI=… to mean 2 colours).
  const inTerminal = (env: Record<string, string | undefined>) =>
    spawnRun('script', ['-qec', `${join(repo, 'bin', 'cutover')} lsit`, '/dev/null'], {
      CI: undefined,
      FORCE_COLOR: undefined,
      TERM: 'xterm-256color',
      ...env,
    }).done;
  const coloured = await inTerminal({});
  assert.ok(coloured.stdout.includes("\u001b[31mcutover:\u001b[39m unknown command 'lsit'"), coloured.stdout);
  const plain = await inTerminal({ NO_COLOR: '1' });
  assert.match(plain.stdout, /^cutover: unknown command 'lsit'/);
  assert.ok(!plain.stdout.includes('\u001b['), 'no colour with NO_COLOR');
  const piped = await run(['lsit']);
  assert.ok(!piped.stderr.includes('\u001b['), 'no colour into a pipe');
});
