// The kill-point matrix: for each point, the same rollout as its group's unkilled baseline, with the
// worker SIGKILLed when the Canary shows that point (a phase, an event, a hook call in flight), a new
// worker started at once, and the end state checked. The time the kill added is the difference with
// the baseline's duration (a figure for the table, not an assertion).
import { AppUnderTest } from './app-under-test.ts';
import type { EndState, Snapshot } from './app-under-test.ts';
import type { CanaryOptions } from '../../support/canaries.ts';
import { startFaultReceiver } from './fault-receiver.ts';
import type { FaultReceiver, FaultRoute } from './fault-receiver.ts';

export interface TriggerContext {
  snapshot: Snapshot;
  receiver: FaultReceiver;
  /** Times the group's driver reached its named steps (e.g. `released v3`). */
  marks: ReadonlyMap<string, number>;
}
/** Made fresh for every run, so a trigger may keep state (when it first saw something). */
export type Trigger = () => (ctx: TriggerContext) => boolean;

export interface Expected {
  phase: 'Succeeded' | 'Failed' | 'Initialized';
  primaryMessage: string | undefined;
  /** Promotions expected: "Promotion completed!" events and primary generation changes. */
  promotions: 0 | 1;
  apexSelector?: Record<string, string>;
}

export interface Group {
  name: string;
  routes: Record<string, FaultRoute>;
  canary: (receiver: FaultReceiver) => CanaryOptions;
  labels?: Record<string, string>;
  policy?: Record<string, unknown>;
  /** The group starts measuring when the Canary is created, not at a release. */
  measuresInitialization?: boolean;
  /** Makes the new revision(s); returns when the last one was applied. */
  drive: (app: AppUnderTest, mark: (name: string) => void) => Promise<void>;
  /** The end state is reached when this holds (and the driver is done). */
  ended: (s: Snapshot) => boolean;
  expected: Expected;
  /** Why a group's points cannot pass yet (node:test `todo`): a known gap elsewhere in Cutover. */
  todo?: string;
}

export interface KillPoint {
  name: string;
  group: Group;
  /** One trigger per kill, in order (two for a double kill). */
  kills: Trigger[];
  /** How long no worker runs after a kill (default 0: the replacement starts at once). */
  downtimeMs?: number;
  /** In the CI subset (`npm run test:faults:ci`). */
  ci?: boolean;
}

export interface RunResult {
  durationMs: number;
  end: EndState;
  /** Primary generation changes during the run. */
  primaryChanges: number;
  /** Where each kill landed; `rolloutRunning` false: the workflow had already ended (a late kill). */
  killedAt: { phase: string; at: number; rolloutRunning: boolean }[];
  /**
   * Per kill: ms until another worker started or finished a workflow task or activity of the app
   * (Temporal noticing the crash and handing the work on; undefined when no rollout ran).
   */
  handoverMs: (number | undefined)[];
  workerStartMs: number[];
  receiver: { path: string; calls: number; distinctKeys: number }[];
  /** The Canary's event messages at the end, oldest first. */
  events: string[];
  problems: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `CUTOVER_FAULTS_STANDBY=1`: every run (baselines too) has a second worker on the task queue, as the
 * chart's two replicas do, and a kill hits the worker that holds the rollout; the replacement is
 * started after the kill but the standby takes over meanwhile. The added time is then Temporal's
 * noticing (the 3 s timeouts) and the redone step, not a process start on a busy machine.
 */
export const standby = process.env.CUTOVER_FAULTS_STANDBY === '1';

export function checkEnd(expected: Expected, end: EndState, primaryChanges: number): string[] {
  const problems: string[] = [];
  if (end.phase !== expected.phase) problems.push(`phase ${end.phase}, expected ${expected.phase}`);
  if (end.primaryMessage !== expected.primaryMessage)
    problems.push(`primary runs ${end.primaryMessage ?? 'v1'}, expected ${expected.primaryMessage ?? 'v1'}`);
  if (end.targetReplicas !== 0) problems.push(`target at ${end.targetReplicas} replicas, expected 0`);
  if (end.promotionEvents !== expected.promotions)
    problems.push(`${end.promotionEvents} "Promotion completed!" events, expected ${expected.promotions}`);
  if (expected.phase !== 'Initialized' && primaryChanges !== expected.promotions)
    problems.push(`primary changed ${primaryChanges} times, expected ${expected.promotions}`);
  if (expected.apexSelector && JSON.stringify(end.apexSelector) !== JSON.stringify(expected.apexSelector))
    problems.push(
      `apex selects ${JSON.stringify(end.apexSelector)}, expected ${JSON.stringify(expected.apexSelector)}`,
    );
  return problems;
}

/** One rollout of the group, killed at `point` (or not: the baseline). */
export async function runRollout(group: Group, point?: KillPoint, timeoutMs = 240_000): Promise<RunResult> {
  const receiver = await startFaultReceiver(group.routes);
  const prefix = `kill-${group.name}`.slice(0, 24);
  const created = Date.now();
  const app = await AppUnderTest.start({
    prefix,
    canary: group.canary(receiver),
    ...(group.labels ? { labels: group.labels } : {}),
    ...(group.policy ? { policy: group.policy } : {}),
    waitInitialized: !group.measuresInitialization,
    standbyWorker: standby,
  });
  const marks = new Map<string, number>();
  const killedAt: RunResult['killedAt'] = [];
  const workerStartMs: number[] = [];
  const kills: { atMs: number; pid: number | undefined }[] = [];
  let stop = false;
  let killer: Promise<void> = Promise.resolve();
  try {
    const before = group.measuresInitialization ? 0 : (await app.snapshot()).primaryGeneration;
    const startedAt = group.measuresInitialization ? created : Date.now();
    killer = (async () => {
      for (const makeTrigger of point?.kills ?? []) {
        const trigger = makeTrigger();
        for (;;) {
          if (stop) return;
          const snapshot = await app.snapshot().catch(() => undefined);
          if (snapshot && trigger({ snapshot, receiver, marks })) {
            // A point without a worker for a while kills the standby too.
            const killedAtMs = Date.now();
            let killedPid: number | undefined;
            if (standby && point?.downtimeMs) await app.killAllWorkers();
            else killedPid = await (standby ? app.killWorkerHoldingRollout() : app.killWorker());
            kills.push({ atMs: killedAtMs, pid: killedPid });
            const running = await app.runningWorkflows().catch(() => -1);
            killedAt.push({
              phase: snapshot.phase,
              at: Date.now() - startedAt,
              rolloutRunning: running !== 0,
            });
            break;
          }
          await sleep(100);
        }
        if (point?.downtimeMs) await sleep(point.downtimeMs);
        if (stop) return; // the run failed meanwhile: no worker outliving its app
        // With a standby, the replacement's start is not on the rollout's path: not subtracted.
        const started = await app.startWorker();
        workerStartMs.push(standby && !point?.downtimeMs ? 0 : started);
      }
    })();
    const driving = group.drive(app, (name) => marks.set(name, Date.now()));
    await driving;
    marks.set('driven', Date.now());
    const endSnapshot = await waitForEnd(app, group, point, killedAt, timeoutMs);
    // The rollout ends when its workflow does (post-rollout hooks run after the phase is written).
    const closedAt = await app.waitForWorkflowsClosed(timeoutMs);
    const durationMs = Math.max(endSnapshot.at, closedAt) - startedAt;
    stop = true;
    await killer;
    const end = await app.endState();
    const handoverMs: (number | undefined)[] = [];
    for (const [i, kill] of kills.entries()) {
      handoverMs.push(
        killedAt[i]?.rolloutRunning
          ? await app.handoverMs(kill.atMs, kill.pid).catch(() => undefined)
          : undefined,
      );
    }
    const primaryChanges = group.measuresInitialization ? 0 : end.primaryGeneration - before;
    const paths = Object.keys(group.routes);
    return {
      durationMs,
      end,
      primaryChanges,
      killedAt,
      handoverMs,
      workerStartMs,
      receiver: paths.map((path) => ({
        path,
        calls: receiver.calls(path).length,
        distinctKeys: receiver.distinctKeys(path),
      })),
      events: endSnapshot.events.map((e) => e.message),
      problems: checkEnd(group.expected, end, primaryChanges),
    };
  } catch (error) {
    stop = true;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${app.logs()}`, { cause: error });
  } finally {
    stop = true;
    // A worker the killer is starting now must be in the app's list before the app kills them all.
    await killer.catch(() => undefined);
    await app.remove();
    await receiver.close();
  }
}

/**
 * The end state of the group, once every kill of the point has happened. A kill point that the
 * rollout passed without the trigger firing (its workflow closed, no kill) is a miss, said at once.
 */
async function waitForEnd(
  app: AppUnderTest,
  group: Group,
  point: KillPoint | undefined,
  killedAt: readonly unknown[],
  timeoutMs: number,
): Promise<Snapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: Snapshot | undefined;
  for (;;) {
    const snapshot = await app.snapshot().catch(() => undefined);
    if (snapshot) last = snapshot;
    if (snapshot && group.ended(snapshot)) {
      if (point === undefined || killedAt.length === point.kills.length) return snapshot;
      // Post-rollout hooks run after the phase is written: the kill may still come.
      if (killedAt.length === 0 && (await app.runningWorkflows().catch(() => 1)) === 0) {
        throw new Error(
          `the rollout ended (${snapshot.phase}) before the kill point "${point.name}" was seen`,
        );
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${app.namespace}: timed out after ${timeoutMs} ms waiting for the ${group.expected.phase} end of ${group.name}; ` +
          `last phase ${last?.phase}, events:\n${(last?.events ?? []).map((e) => `  ${e.type} ${e.message}`).join('\n')}`,
      );
    }
    await sleep(100);
  }
}

// ---- the groups -----------------------------------------------------------------------------------

const has = (s: Snapshot, start: string): boolean => s.events.some((e) => e.message.startsWith(start));
const hasText = (s: Snapshot, text: string): boolean => s.events.some((e) => e.message.includes(text));
const when =
  (predicate: (ctx: TriggerContext) => boolean): Trigger =>
  () =>
    predicate;
/** True `delayMs` after `predicate` first held. */
const after =
  (delayMs: number, predicate: (ctx: TriggerContext) => boolean): Trigger =>
  () => {
    let first: number | undefined;
    return (ctx) => {
      if (first === undefined && predicate(ctx)) first = Date.now();
      return first !== undefined && Date.now() - first >= delayMs;
    };
  };

const succeededWith = (message: string, apex?: Record<string, string>): Expected => ({
  phase: 'Succeeded',
  primaryMessage: message,
  promotions: 1,
  ...(apex ? { apexSelector: apex } : {}),
});

const releaseV2 = async (app: AppUnderTest, mark: (name: string) => void): Promise<void> => {
  await app.release('v2');
  mark('released v2');
};

/** A Canary without hooks: scale up, three ticks of one second, promotion. */
export const plain: Group = {
  name: 'plain',
  routes: {},
  canary: () => ({ interval: '1s', iterations: 3, threshold: 2 }),
  drive: releaseV2,
  ended: (s) => s.phase === 'Succeeded',
  expected: succeededWith('v2'),
};

/** Every gate and a slow hook of each kind: the kills land while a hook is in flight. */
export const hooks: Group = {
  name: 'hooks',
  routes: {
    '/confirm': { kind: 'gate', openAfterMs: 3_000 },
    '/pre': { kind: 'slow', delayMs: 2_500 },
    '/load': { kind: 'slow', delayMs: 600 },
    '/promotion-gate': { kind: 'gate', openAfterMs: 3_000 },
    '/post': { kind: 'slow', delayMs: 2_500 },
  },
  canary: (r) => ({
    interval: '1s',
    iterations: 3,
    threshold: 2,
    webhooks: [
      { name: 'confirm', type: 'confirm-rollout', url: r.url('/confirm'), timeout: '5s' },
      { name: 'pre', type: 'pre-rollout', url: r.url('/pre'), timeout: '10s' },
      { name: 'load', type: 'rollout', url: r.url('/load'), timeout: '10s' },
      { name: 'promotion-gate', type: 'confirm-promotion', url: r.url('/promotion-gate'), timeout: '5s' },
      { name: 'post', type: 'post-rollout', url: r.url('/post'), timeout: '10s' },
    ],
  }),
  drive: releaseV2,
  ended: (s) => s.phase === 'Succeeded',
  expected: succeededWith('v2'),
};

/** A rollout hook that always fails: two failed checks, rollback, a slow post-rollout hook. */
export const failing: Group = {
  name: 'rollback',
  routes: { '/fail': { kind: 'fixed', status: 500 }, '/post': { kind: 'slow', delayMs: 2_500 } },
  canary: (r) => ({
    interval: '1s',
    iterations: 5,
    threshold: 2,
    webhooks: [
      { name: 'smoke', type: 'rollout', url: r.url('/fail'), timeout: '2s' },
      { name: 'post', type: 'post-rollout', url: r.url('/post'), timeout: '10s' },
    ],
  }),
  drive: releaseV2,
  ended: (s) => s.phase === 'Failed',
  expected: { phase: 'Failed', primaryMessage: undefined, promotions: 0 },
};

/** A newer revision in the middle of the analysis: v2 hands over to v3, which is promoted. */
export const superseded: Group = {
  name: 'supersede',
  routes: {},
  canary: () => ({ interval: '1s', iterations: 3, threshold: 2 }),
  drive: async (app, mark) => {
    await app.release('v2');
    mark('released v2');
    await app.waitUntil('the first v2 tick', (s) => s.iterations >= 1, 120_000);
    await app.release('v3');
    mark('released v3');
  },
  ended: (s) => s.phase === 'Succeeded',
  expected: succeededWith('v3'),
};

/** A new Canary: the primary is created from the target, which is scaled to zero. */
export const initialization: Group = {
  name: 'init',
  routes: {},
  canary: () => ({ interval: '1s', iterations: 3, threshold: 2 }),
  measuresInitialization: true,
  drive: async () => undefined,
  ended: (s) => s.phase === 'Initialized',
  expected: { phase: 'Initialized', primaryMessage: undefined, promotions: 0 },
};

/** Switch mode: a RolloutPolicy with `strategy: switch` and a 6 s keep-warm window. */
export const switchMode: Group = {
  name: 'switch',
  routes: { '/post': { kind: 'slow', delayMs: 2_500 } },
  labels: { app: 'podinfo' },
  policy: {
    selector: { matchLabels: { app: 'podinfo' } },
    strategy: 'switch',
    switch: { keepWarm: '6s', analysis: { interval: '1s', threshold: 2 } },
  },
  canary: (r) => ({
    interval: '1s',
    iterations: 2,
    threshold: 2,
    webhooks: [{ name: 'post', type: 'post-rollout', url: r.url('/post'), timeout: '10s' }],
  }),
  drive: releaseV2,
  ended: (s) => s.phase === 'Succeeded',
  expected: succeededWith('v2', { app: 'podinfo-primary' }),
};

const tick = (n: number): Trigger => when(({ snapshot }) => snapshot.iterations >= n);
const calledAtLeast = (path: string, n: number): Trigger =>
  when(({ receiver }) => receiver.calls(path).length >= n);
const greenServes = (s: Snapshot): boolean => s.apexSelector?.app === 'podinfo';

export const killPoints: KillPoint[] = [
  {
    name: 'initialising: primary being created',
    group: initialization,
    kills: [when(({ snapshot }) => snapshot.phase === 'Initializing')],
  },
  {
    name: 'new revision detected (Progressing)',
    group: plain,
    kills: [when(({ snapshot }) => snapshot.phase === 'Progressing')],
  },
  {
    name: 'scaling up: waiting for green to be ready',
    group: plain,
    kills: [
      when(({ snapshot }) => snapshot.targetReplicas >= 1 && !has(snapshot, 'Starting canary analysis')),
    ],
  },
  {
    name: 'analysis started',
    group: plain,
    kills: [when(({ snapshot }) => has(snapshot, 'Starting canary analysis'))],
  },
  { name: 'analysis tick 1/3 done', group: plain, kills: [tick(1)], ci: true },
  { name: 'analysis tick 2/3 done', group: plain, kills: [tick(2)] },
  { name: 'analysis tick 3/3 done (last)', group: plain, kills: [tick(3)] },
  {
    name: 'promoting: copying the template to the primary',
    group: plain,
    kills: [when(({ snapshot }) => has(snapshot, 'Copying'))],
  },
  {
    name: 'revision released, before the watcher started its rollout',
    group: plain,
    kills: [when(({ marks }) => marks.has('released v2'))],
  },
  { name: 'two kills: tick 1, then tick 2 on the replacement', group: plain, kills: [tick(1), tick(2)] },
  { name: 'tick 1, no worker for 10 s', group: plain, kills: [tick(1)], downtimeMs: 10_000 },
  {
    name: 'Waiting: confirm-rollout gate closed',
    group: hooks,
    kills: [when(({ snapshot }) => snapshot.phase === 'Waiting')],
  },
  { name: 'pre-rollout hook in flight', group: hooks, kills: [calledAtLeast('/pre', 1)] },
  { name: 'rollout hook in flight (tick 2)', group: hooks, kills: [calledAtLeast('/load', 2)] },
  {
    name: 'WaitingPromotion: confirm-promotion gate closed',
    group: hooks,
    kills: [when(({ snapshot }) => snapshot.phase === 'WaitingPromotion')],
  },
  { name: 'finalising: post-rollout hook in flight', group: hooks, kills: [calledAtLeast('/post', 1)] },
  {
    name: 'first failed check counted',
    group: failing,
    kills: [when(({ snapshot }) => snapshot.failedChecks >= 1)],
    ci: true,
  },
  {
    name: 'rollback decided (threshold reached)',
    group: failing,
    kills: [when(({ snapshot }) => has(snapshot, 'Rolling back'))],
  },
  {
    name: 'rollback in flight: post-rollout hook',
    group: failing,
    kills: [calledAtLeast('/post', 1)],
  },
  {
    name: 'hand-over: v3 released during v2 analysis',
    group: superseded,
    kills: [when(({ marks }) => marks.has('released v3'))],
  },
  {
    name: 'hand-over: analysis restarted for v3',
    group: superseded,
    kills: [when(({ snapshot }) => has(snapshot, 'New revision detected! Restarting analysis'))],
  },
  {
    name: 'right after the flip to green',
    group: switchMode,
    kills: [when(({ snapshot }) => greenServes(snapshot))],
    ci: true,
  },
  {
    name: 'keep-warm window (2.5 s in)',
    group: switchMode,
    kills: [after(2_500, ({ snapshot }) => greenServes(snapshot))],
  },
  {
    name: 'window passed, copying to the primary',
    group: switchMode,
    kills: [when(({ snapshot }) => has(snapshot, 'Keep-warm window of'))],
  },
  {
    name: 'during the flip back',
    group: switchMode,
    kills: [when(({ snapshot }) => hasText(snapshot, 'back to podinfo-primary'))],
    ci: true,
  },
  {
    name: 'finalising after the flip back (post-rollout hook in flight)',
    group: switchMode,
    kills: [calledAtLeast('/post', 1)],
  },
];

export const groups = [initialization, plain, hooks, failing, superseded, switchMode];

/** The table row of one point, for the printed matrix. */
export interface MatrixRow {
  point: string;
  survived: boolean;
  end: string;
  singlePromotion: string;
  addedSeconds: string;
  /** The added time less the replacement worker's own start (process start to healthy). */
  beyondStartSeconds: string;
  /** From the kill to the first task another worker took (per kill). */
  handoverSeconds: string;
  note: string;
}

export function formatMatrix(rows: MatrixRow[]): string {
  const header = [
    'kill point',
    'survived',
    'end state',
    'single promotion',
    'added s',
    'beyond worker start s',
    'handover s',
    'note',
  ];
  const cells = rows.map((r) => [
    r.point,
    r.survived ? 'yes' : 'NO',
    r.end,
    r.singlePromotion,
    r.addedSeconds,
    r.beyondStartSeconds,
    r.handoverSeconds,
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string => `| ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
