// The `cutover` command line as a user runs it: a child process (`node client/cli.ts …`) pointed at
// the stack by the environment, against real rollouts of one canary started by the test support.
// Rollout 1 is promoted with `cutover promote`, rollout 2 aborted with `cutover abort`; `list`,
// `status`, `watch` and `history` are checked against the cluster and the status query on the way.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { endpoints } from '../support/cluster.ts';
import { readCanaryStatus } from '../support/canaries.ts';
import { setupScenario } from '../support/scenario.ts';
import type { Scenario } from '../support/scenario.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';
import { startTestWorker } from '../support/worker.ts';
import type { TestWorker } from '../support/worker.ts';
import { statusQuery } from '../../workflows/messages.ts';
import type { RolloutStatus } from '../../workflows/messages.ts';
import type { HistoryEntry, ListRow, RunningView } from '../../client/format.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
// The caller's own CUTOVER_USER would change the identity the tests expect.
const { CUTOVER_USER: _callersIdentity, ...inherited } = process.env;
const cliEnv = {
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
  lines: string[];
  done: Promise<Run>;
}

/** Starts `cutover ARGS` as a user would; `done` resolves when it exits. */
function spawnCli(args: string[], env: Record<string, string | undefined> = {}): Running {
  const child = spawn(process.execPath, ['client/cli.ts', ...args], {
    cwd: repo,
    env: { ...cliEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    lines.splice(0, lines.length, ...stdout.split('\n').filter(Boolean));
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { lines, done };
}

async function cli(...args: string[]): Promise<Run> {
  return spawnCli(args).done;
}

async function cliJson<T>(...args: string[]): Promise<T> {
  const run = await cli(...args, '--output', 'json');
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A user error is one line on stderr, never a stack trace. */
function assertCleanError(run: Run, code: number, message: string | RegExp): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  if (typeof message === 'string') assert.equal(run.stderr.trim(), `cutover: ${message}`);
  else assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

let worker: TestWorker;
let hooks: WebhookReceiver;
let scenario: Scenario;
let canary: string;
let first: WorkflowHandle;
let firstRevision: string;

before(async () => {
  worker = await startTestWorker('cli');
  hooks = await startWebhookReceiver();
  scenario = await setupScenario(worker, 'cli', {
    interval: '500ms',
    iterations: 1000,
    threshold: 3,
    metrics: [
      // An inline query with a known answer, so the status has a value to show against its range.
      { name: 'answer', query: 'vector(42)', thresholdRange: { min: 40, max: 50 }, interval: '1m' },
    ],
    webhooks: [{ name: 'load-test', type: 'rollout', url: hooks.url('/load') }],
  });
  canary = `${scenario.namespace}/${scenario.name}`;
  firstRevision = await scenario.changeTarget(['--ui-message=v2']);
  first = await scenario.startRollout();
  await untilAnalysing(first);
});

after(async () => {
  await scenario?.remove();
  await hooks?.close();
  await worker?.stop();
});

/** Waits until the rollout has judged an iteration and visibility lists it as running. */
async function untilAnalysing(handle: WorkflowHandle): Promise<RolloutStatus> {
  const status = await until('an analysed iteration', async () => {
    const s = await handle.query(statusQuery);
    return s.iteration >= 1 && s.metrics.answer && s.hooks['load-test'] ? s : undefined;
  });
  await until('the rollout to be listed as running', async () => {
    const view = await cliJson<{ running: boolean; workflowId?: string }>('status', canary);
    return view.running && view.workflowId === handle.workflowId ? true : undefined;
  });
  return status;
}

test('list shows the canary with the running rollout: phase, revision, iteration k/N, failed checks, UI link', async () => {
  const rows = await cliJson<ListRow[]>('list', '-n', scenario.namespace);
  const status = await first.query(statusQuery);
  assert.equal(rows.length, 1);
  const row = rows[0] as ListRow;
  assert.equal(row.namespace, scenario.namespace);
  assert.equal(row.name, 'podinfo');
  assert.equal(row.phase, status.phase);
  assert.equal(row.revision, firstRevision);
  assert.equal(row.iterations, 1000);
  assert.ok((row.iteration ?? 0) >= 1 && (row.iteration ?? 0) <= status.iteration);
  assert.equal(row.threshold, 3);
  assert.equal(row.rollout?.workflowId, first.workflowId);
  const runId = (await first.describe()).runId;
  assert.equal(
    row.rollout?.url,
    `${endpoints.temporalUiUrl}/namespaces/${endpoints.temporalNamespace}/workflows/${encodeURIComponent(first.workflowId)}/${runId}`,
  );

  const text = await cli('list', '-A');
  assert.equal(text.code, 0, text.stderr);
  const line = text.stdout.split('\n').find((l) => l.startsWith(`${canary} `));
  assert.ok(line, text.stdout);
  assert.match(
    line,
    new RegExp(
      `^${canary}\\s+Progressing\\s+${firstRevision.slice(0, 8)}\\s+\\S+\\s+\\d+/1000\\s+0/3\\s+\\d+s\\s+http`,
    ),
  );
  assert.ok(line.endsWith(row.rollout?.url ?? '?'));
});

test('status reads the status query: phase, iteration, checks against their range, hooks, wait, UI link', async () => {
  const view = await cliJson<RunningView & { running: boolean }>('status', canary);
  const status = await first.query(statusQuery);
  assert.equal(view.running, true);
  assert.equal(view.workflowId, first.workflowId);
  assert.equal(view.status.revision, status.revision);
  assert.equal(view.status.phase, status.phase);
  assert.deepEqual(view.status.canary, status.canary);
  assert.equal(view.status.metrics.answer?.value, 42);

  const text = await cli('status', 'podinfo', '-n', scenario.namespace);
  assert.equal(text.code, 0, text.stderr);
  const out = text.stdout;
  assert.match(out, new RegExp(`Canary +${canary} \\(target podinfo\\)`));
  assert.match(out, new RegExp(`Revision +${firstRevision}`));
  assert.match(out, /Phase +Progressing/);
  assert.match(out, /Iteration +\[[█░]{20}\] \d+\/1000/);
  assert.match(out, /Failed checks +0\/3/);
  assert.match(out, /answer +42 +40 \.\. 50 +pass/);
  assert.match(out, /load-test +rollout +ok .*HTTP 200/);
  assert.match(
    out,
    /Waiting for +(next iteration until \d\d:\d\d:\d\d \((in [\d.]+m?s|[\d.]+m?s ago)\)|none \(working\))/,
  );
  assert.match(out, /Manual actions: none/);
  assert.ok(out.includes(`Temporal UI: ${view.url}`));
});

test('watch follows the rollout until `promote --as --reason` ends it, then exits 0', async () => {
  const watch = spawnCli(['watch', canary]);
  await until('a first status line from watch', async () => (watch.lines.length > 0 ? true : undefined));
  const seen = JSON.parse(watch.lines[0] ?? '{}') as { type: string; status: RolloutStatus };
  assert.equal(seen.type, 'status');
  assert.equal(seen.status.revision, firstRevision);

  const promote = await cli(
    'promote',
    canary,
    '--as',
    'alice@example.com',
    '--reason',
    'looks good in staging',
  );
  assert.equal(promote.code, 0, promote.stderr);
  assert.match(
    promote.stdout,
    new RegExp(`Promotion of ${canary} sent to ${first.workflowId.replace(/\//g, '\\/')}`),
  );
  assert.match(promote.stdout, /by alice@example\.com: looks good in staging/);

  const watched = await watch.done;
  assert.equal(watched.code, 0, watched.stderr);
  const lines = watched.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const end = lines.at(-1) as { type: string; outcome: string };
  assert.equal(end.type, 'end');
  assert.equal(end.outcome, 'promoted');
  const result = (await first.result()) as {
    outcome: string;
    manualActions: { by: string; reason: string }[];
  };
  assert.equal(result.outcome, 'promoted');
  assert.deepEqual(
    result.manualActions.map((a) => [a.by, a.reason]),
    [['alice@example.com', 'looks good in staging']],
  );
});

test('promote and abort with no running rollout exit 3; abort without --reason is a usage error', async () => {
  await until('visibility to show no running rollout', async () => {
    const view = await cliJson<{ running: boolean }>('status', canary);
    return view.running ? undefined : true;
  });
  assertCleanError(
    await cli('promote', canary, '--direct'),
    3,
    `no rollout of ${canary} is running: cutover history ${canary} lists past ones`,
  );
  assertCleanError(await cli('abort', canary, '--reason', 'x', '--direct'), 3, /no rollout of .* is running/);
  assertCleanError(await cli('abort', canary), 64, /abort needs --reason TEXT/);
});

test('status without a running rollout shows the Canary status and how the last rollout ended', async () => {
  const text = await cli('status', canary);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Rollout +none running/);
  assert.match(text.stdout, /Phase +Succeeded/);
  assert.match(text.stdout, new RegExp(`Promoted +${firstRevision}`));
  assert.match(text.stdout, /Outcome +promoted/);
  assert.match(text.stdout, /promote by alice@example\.com \(as typed\): looks good in staging/);
  assert.equal((await readCanaryStatus(scenario.namespace, 'podinfo')).phase, 'Succeeded');
});

test('abort ($CUTOVER_USER as identity) rolls back the next rollout; watch exits 1', async () => {
  await scenario.changeTarget(['--ui-message=v3']);
  const second = await scenario.startRollout();
  await untilAnalysing(second);
  const during = await cliJson<HistoryEntry[]>('history', canary);
  assert.deepEqual(
    [during[0]?.workflowId, during[0]?.outcome, during[0]?.closeTime],
    [second.workflowId, 'running', undefined],
    'a running rollout is listed with its status, not waited for',
  );
  const watch = spawnCli(['watch', canary, '--output', 'json']);
  await until('a first status line from watch', async () => (watch.lines.length > 0 ? true : undefined));
  const abort = spawnCli(['abort', canary, '--reason', 'error budget burning', '--direct'], {
    CUTOVER_USER: 'bob',
  });
  assert.equal((await abort.done).code, 0);
  const watched = await watch.done;
  assert.equal(watched.code, 1, watched.stderr);
  const end = JSON.parse(watched.stdout.trim().split('\n').at(-1) ?? '{}') as {
    type: string;
    outcome: string;
  };
  assert.deepEqual([end.type, end.outcome], ['end', 'rolled-back']);
  assert.equal((await readCanaryStatus(scenario.namespace, 'podinfo')).phase, 'Failed');
});

test('history lists every rollout with outcome and who steered it; --rollout tells one step by step', async () => {
  const entries = await until('both rollouts closed in visibility', async () => {
    const list = await cliJson<HistoryEntry[]>('history', canary);
    return list.filter((e) => e.kind === 'rollout' && e.closeTime).length === 2 ? list : undefined;
  });
  assert.deepEqual(
    entries.map((e) => [e.kind, e.outcome, e.manualActions.map((a) => `${a.action} ${a.by}: ${a.reason}`)]),
    [
      ['rollout', 'rolled-back', ['abort bob: error budget burning']],
      ['rollout', 'promoted', ['promote alice@example.com: looks good in staging']],
      ['initialize', 'initialized', []],
    ],
  );
  assert.equal(entries[1]?.revision, firstRevision);
  assert.ok(
    entries[1]?.url.endsWith(`/workflows/${encodeURIComponent(first.workflowId)}/${entries[1]?.runId}`),
  );

  const text = await cli('history', canary);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /promote by alice@example\.com \(as typed\): looks good in staging/);
  assert.match(text.stdout, /abort by bob \(as typed\): error budget burning/);

  const steps = await cli('history', canary, '--rollout', firstRevision.slice(0, 6));
  assert.equal(steps.code, 0, steps.stderr);
  const out = steps.stdout;
  assert.ok(out.startsWith(`${first.workflowId}  run `), out.slice(0, 200));
  assert.match(
    out,
    new RegExp(`workflow +started rolloutWorkflow +canary=${canary} revision=${firstRevision}`),
  );
  assert.match(out, /activity +scaleUpCanary +namespace=\S+ target=podinfo/);
  // An analysis tick is one local activity: its result lists every hook and metric of the tick.
  assert.match(out, /activity +runAnalysisTick\n +→ hooks=\["HTTP 200"\] metrics=\["[^"]*answer[^"]*42/);
  assert.match(out, /timer +\S+\n +→ (fired|cut short)/);
  assert.match(
    out,
    /signal +promote +promote by alice@example\.com: looks good in staging\n +→ sent by client alice@example\.com/,
  );
  assert.match(out, /phase +Succeeded/);
  assert.match(out, /workflow +completed\n +→ outcome=promoted/);

  const json = await cliJson<{ workflowId: string; runs: { steps: unknown[] }[] }>(
    'history',
    canary,
    '--rollout',
    first.workflowId,
  );
  assert.equal(json.workflowId, first.workflowId);
  assert.ok((json.runs[0]?.steps.length ?? 0) > 10);
});

test('clear errors: a canary that does not exist, an unreachable Temporal, a bad flag', async () => {
  assertCleanError(
    await cli('status', `${scenario.namespace}/nope`),
    2,
    `canary ${scenario.namespace}/nope not found: kubectl get canaries -n ${scenario.namespace}`,
  );
  assertCleanError(
    await cli('promote', 'test/podinfo', '--reason', 'x', '--direct'),
    2,
    'canary test/podinfo not found: kubectl get canaries -n test',
  );
  // history needs Temporal (list does without it: cli-conventions.test.ts).
  const down = await spawnCli(['history', canary], { TEMPORAL_ADDRESS: '127.0.0.1:1' }).done;
  assertCleanError(down, 4, /cannot reach Temporal at 127\.0\.0\.1:1 .*TEMPORAL_ADDRESS/);
  assertCleanError(await cli('status', canary, '--frobnicate'), 64, /unknown option '--frobnicate'/);
  // NAME alone is in the context's namespace (the local stack's context names none: default).
  assertCleanError(await cli('status', 'no-slash'), 2, /canary default\/no-slash not found/);
  assertCleanError(await cli('status', 'a/b/c'), 64, /"a\/b\/c" is not NAMESPACE\/NAME/);
});
