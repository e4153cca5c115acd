// Outages of the systems a rollout depends on, each in the middle of a rollout run by the real
// `cutover worker`: Temporal stopped and started again (its database kept), the kube-apiserver frozen
// for 30 s (SIGSTOP, then SIGCONT), Prometheus gone for a few seconds. On a private stack (its own
// state dir and ports), so no one else's tests see the outages; brought down at the end.
import './support/private-stack-env.ts';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { clusterComponents } from '../../stack/cluster-components.ts';
import { localPorts, stackEndpoints } from '../../stack/endpoints.ts';
import { allComponents, stackDown, stackUp } from '../../stack/stack.ts';
import { AppUnderTest, sleep } from './support/app-under-test.ts';
import type { EndState, Snapshot } from './support/app-under-test.ts';

const endpoints = stackEndpoints();
// Never the shared stack: an outage here would break everyone else's tests.
assert.ok(endpoints.stateDir.includes('cutover-faults-stack-'), `a private stack, not ${endpoints.stateDir}`);
assert.notEqual(localPorts.kubeApiserver, 6443, 'a private apiserver port');
assert.notEqual(localPorts.temporal, 7233, 'a private Temporal port');

before(async () => {
  await stackUp(endpoints);
});
after(async () => {
  await stackDown(allComponents, endpoints);
  rmSync(endpoints.stateDir, { recursive: true, force: true });
});

interface OutageRun {
  app: AppUnderTest;
  end: EndState;
  final: Snapshot;
  primaryChanges: number;
  durationMs: number;
  workerAliveAfter: boolean;
}

/** A rollout of v2 with `outage` run when the analysis reaches `atTick`; the app is left for checks. */
async function rolloutThrough(
  prefix: string,
  canary: Parameters<typeof AppUnderTest.start>[0]['canary'],
  atTick: number,
  outage: () => Promise<void>,
  prepare?: (app: AppUnderTest) => Promise<void>,
): Promise<OutageRun> {
  const app = await AppUnderTest.start({ prefix, canary });
  try {
    await prepare?.(app);
    const before = (await app.snapshot()).primaryGeneration;
    const released = await app.release('v2');
    await app.waitUntil(`analysis tick ${atTick}`, (s) => s.iterations >= atTick, 120_000);
    await outage();
    const worker = app.workers[app.workers.length - 1];
    const workerAliveAfter = await fetch(`${worker?.metricsUrl}/healthz`)
      .then(() => true)
      .catch(() => false);
    // A worker that did not survive is replaced, so the end state can still be checked (and reported).
    if (!workerAliveAfter) await app.startWorker();
    const final = await app.waitUntil(
      'the end of the rollout',
      (s) => ['Succeeded', 'Failed'].includes(s.phase),
      240_000,
    );
    const end = await app.endState();
    return {
      app,
      end,
      final,
      primaryChanges: end.primaryGeneration - before,
      durationMs: final.at - released,
      workerAliveAfter,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await app.remove();
    throw new Error(`${message}\n${app.logs()}`, { cause: error });
  }
}

function assertPromotedOnce(run: OutageRun): void {
  assert.equal(run.end.phase, 'Succeeded');
  assert.equal(run.end.primaryMessage, 'v2');
  assert.equal(run.end.targetReplicas, 0);
  assert.equal(run.end.promotionEvents, 1, 'one "Promotion completed!" event');
  assert.equal(run.primaryChanges, 1, 'the primary changed once');
}

/** Warning events and False conditions of the Canary matching `pattern`: what it said went wrong. */
const mentions = (s: Snapshot, pattern: RegExp): string[] =>
  [
    ...s.events.filter((e) => e.type === 'Warning').map((e) => e.message),
    ...s.conditions.filter((c) => c.status === 'False').map((c) => c.message ?? ''),
  ].filter((m) => pattern.test(m));

/**
 * The worker's word about an outage (worker/dependency-reachability.ts): written within a few seconds
 * of the dependency being gone (Temporal) or back (the API server), so waited for, not read at the end.
 */
async function saidOnCanary(run: OutageRun, pattern: RegExp): Promise<string[]> {
  const snapshot = await run.app
    .waitUntil(
      `a Warning event or False condition matching ${pattern}`,
      (s) => mentions(s, pattern).length > 0,
      20_000,
    )
    .catch(() => run.final);
  return mentions(snapshot, pattern);
}

describe('outages during a rollout', { concurrency: 1 }, () => {
  let temporal: OutageRun | undefined;
  let apiserver: OutageRun | undefined;
  let prometheus: OutageRun | undefined;
  const report: string[] = [];
  after(async () => {
    for (const run of [temporal, apiserver, prometheus]) await run?.app.remove();
    if (report.length > 0) process.stdout.write(`\noutages:\n${report.join('\n')}\n`);
  });

  test('Temporal stopped for 10 s and started again: the rollout finishes with one promotion', async () => {
    temporal = await rolloutThrough(
      'outage-t',
      { interval: '1s', iterations: 6, threshold: 2 },
      2,
      async () => {
        await stackDown(['temporal'], endpoints);
        await sleep(10_000);
        await stackUp(endpoints);
      },
    );
    report.push(
      `Temporal restart: ${temporal.end.phase} in ${(temporal.durationMs / 1000).toFixed(1)} s, worker survived: ${temporal.workerAliveAfter}`,
    );
    assertPromotedOnce(temporal);
    assert.ok(temporal.workerAliveAfter, 'the worker process rode out the Temporal restart');
  });

  test('Temporal restart: the Canary says the rollout was held up by Temporal', async () => {
    assert.ok(temporal, 'the Temporal restart ran');
    const said = await saidOnCanary(temporal, /temporal/i);
    report.push(`Temporal restart, said on the Canary: ${said.join(' | ') || 'nothing'}`);
    assert.ok(said.length > 0, 'no event or condition mentions Temporal');
    const stalled = (await temporal.app.snapshot()).conditions.find((c) => c.type === 'Stalled');
    assert.notEqual(stalled?.status, 'True', 'Stalled is not left True once Temporal is back');
  });

  test('kube-apiserver frozen for 30 s: the rollout finishes with one promotion, every component still runs', async () => {
    apiserver = await rolloutThrough(
      'outage-k',
      { interval: '1s', iterations: 6, threshold: 2 },
      2,
      async () => {
        const pid = clusterComponents(endpoints.stateDir)?.find((c) => c.name === 'kube-apiserver')?.pid;
        assert.ok(pid, 'the private kube-apiserver runs');
        process.kill(pid, 'SIGSTOP');
        try {
          await sleep(30_000);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
      },
    );
    await sleep(5_000);
    const stopped = (clusterComponents(endpoints.stateDir) ?? [])
      .filter((c) => !c.running)
      .map((c) => c.name);
    report.push(
      `apiserver pause: ${apiserver.end.phase} in ${(apiserver.durationMs / 1000).toFixed(1)} s, worker survived: ${apiserver.workerAliveAfter}, components stopped after: ${stopped.join(', ') || 'none'}`,
    );
    assertPromotedOnce(apiserver);
    assert.ok(apiserver.workerAliveAfter, 'the worker process rode out the pause');
    assert.deepEqual(stopped, [], 'cluster components still running after the pause');
  });

  test('apiserver pause: the Canary says the rollout was held up', async () => {
    assert.ok(apiserver, 'the apiserver pause ran');
    const said = await saidOnCanary(apiserver, /api ?server|kubernetes api|unavailable|timed out|retry/i);
    report.push(`apiserver pause, said on the Canary: ${said.join(' | ') || 'nothing'}`);
    assert.ok(said.length > 0, 'no event or condition mentions the outage');
  });

  test('Prometheus gone for 6 s: failed checks say Prometheus is unavailable, then the rollout promotes (ci)', async () => {
    prometheus = await rolloutThrough(
      'outage-p',
      {
        interval: '1s',
        iterations: 5,
        threshold: 10,
        metrics: [
          {
            name: 'always-one',
            templateRef: { name: 'always-one' },
            thresholdRange: { max: 2 },
            interval: '1m',
          },
        ],
      },
      1,
      async () => {
        await stackDown(['prometheus'], endpoints);
        await sleep(6_000);
        await stackUp(endpoints);
      },
      async (app) => {
        await app.createObject('flagger.app', 'v1beta1', 'metrictemplates', {
          apiVersion: 'flagger.app/v1beta1',
          kind: 'MetricTemplate',
          metadata: { name: 'always-one' },
          spec: { provider: { type: 'prometheus', address: endpoints.prometheusUrl }, query: 'vector(1)' },
        });
      },
    );
    const said = mentions(prometheus.final, /prometheus/i);
    report.push(
      `Prometheus outage: ${prometheus.end.phase} in ${(prometheus.durationMs / 1000).toFixed(1)} s, failed checks ${prometheus.final.failedChecks}, said: ${said[0] ?? 'nothing'}`,
    );
    assertPromotedOnce(prometheus);
    assert.ok(said.length > 0, 'a Warning event names Prometheus');
  });
});
