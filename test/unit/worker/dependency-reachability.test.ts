// Temporal (or the API server) away for long is said: one log line, /readyz's check, and on each
// Canary mid-rollout a Stalled condition and a Warning event; when it answers again, Stalled False
// and a Normal event with how long the rollout was held. A blip shorter than the threshold is quiet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReportProgressInput } from '../../../activities/canary-status.ts';
import { DependencyReachability } from '../../../worker/dependency-reachability.ts';
import type { CanaryObjectLike } from '../../../worker/dependency-reachability.ts';
import type { Logger } from '../../../worker/logger.ts';

function harness(canaries: CanaryObjectLike[]) {
  let now = Date.parse('2026-12-01T10:00:00Z');
  let answering = true;
  let listing = true;
  const reports: ReportProgressInput[] = [];
  const lines: { level: string; message: string }[] = [];
  const record =
    (level: string) =>
    (message: string): void => {
      lines.push({ level, message });
    };
  const log = { error: record('error'), warn: record('warn'), info: record('info') } as unknown as Logger;
  const reachability = new DependencyReachability({
    name: 'Temporal',
    reason: 'TemporalUnreachable',
    address: '127.0.0.1:7233',
    probe: () =>
      answering ? Promise.resolve() : Promise.reject(new Error('14 UNAVAILABLE: No connection established')),
    log,
    listCanaries: () =>
      listing ? Promise.resolve(canaries) : Promise.reject(new Error('connection refused')),
    reportProgress: (input) => {
      reports.push(input);
      return Promise.resolve({ found: true, phaseChanged: false, eventsCreated: 1 });
    },
    now: () => now,
  });
  return {
    reachability,
    reports,
    lines,
    advance: (ms: number) => (now += ms),
    setAnswering: (value: boolean) => (answering = value),
    setListing: (value: boolean) => (listing = value),
  };
}

const canary = (name: string, phase: string, lastTransitionTime?: string): CanaryObjectLike => ({
  metadata: { name, namespace: 'prod', uid: `uid-${name}` },
  status: { phase, ...(lastTransitionTime ? { lastTransitionTime } : {}) },
});

describe('dependency reachability', () => {
  it('is quiet for a blip shorter than 6 s', async () => {
    const h = harness([canary('web', 'Progressing')]);
    h.setAnswering(false);
    await h.reachability.check();
    h.advance(4_000);
    await h.reachability.check();
    h.setAnswering(true);
    await h.reachability.check();
    assert.deepEqual(h.reports, []);
    assert.deepEqual(h.lines, []);
    assert.equal(h.reachability.describe(), 'ok');
  });

  it('says a long outage in the log, on /readyz and on the Canaries mid-rollout, then its end', async () => {
    const h = harness([canary('web', 'Progressing'), canary('api', 'Succeeded'), canary('db', 'Waiting')]);
    h.setAnswering(false);
    await h.reachability.check();
    h.advance(6_000);
    await h.reachability.check();
    assert.match(h.reachability.describe(), /^unreachable since 2026-12-01T10:00:00.000Z: 14 UNAVAILABLE/);
    assert.deepEqual(
      h.lines.map((l) => l.level),
      ['error'],
    );
    assert.deepEqual(
      h.reports.map((r) => r.canary.name),
      ['web', 'db'],
      'only the Canaries mid-rollout',
    );
    const down = h.reports[0];
    assert.equal(down?.status?.condition?.type, 'Stalled');
    assert.equal(down?.status?.condition?.status, 'True');
    assert.equal(down?.status?.condition?.reason, 'TemporalUnreachable');
    assert.equal(down?.events?.[0]?.type, 'Warning');
    assert.match(
      down?.events?.[0]?.message ?? '',
      /cannot reach Temporal at 127\.0\.0\.1:7233 since .*the rollout is held/,
    );

    h.advance(2_000);
    await h.reachability.check(); // still down: said once
    assert.equal(h.reports.length, 2);

    h.setAnswering(true);
    h.advance(2_000);
    await h.reachability.check();
    assert.equal(h.reachability.describe(), 'ok');
    const ups = h.reports.slice(2);
    assert.deepEqual(
      ups.map((r) => [
        r.canary.name,
        r.status?.condition?.status,
        r.status?.condition?.reason,
        r.events?.[0]?.type,
      ]),
      [
        ['web', 'False', 'Recovered', 'Normal'],
        ['db', 'False', 'Recovered', 'Normal'],
      ],
    );
    assert.match(
      ups[0]?.events?.[0]?.message ?? '',
      /^Temporal at 127\.0\.0\.1:7233 did not answer for 10 s/,
    );
    assert.equal(h.lines.at(-1)?.level, 'info');
  });

  it('tells the Canaries afterwards when the API server refused the list during the outage', async () => {
    const h = harness([
      canary('web', 'Progressing'),
      canary('ended-during', 'Succeeded', '2026-12-01T10:00:05Z'),
      canary('ended-before', 'Succeeded', '2026-12-01T09:00:00Z'),
    ]);
    h.setAnswering(false);
    h.setListing(false);
    await h.reachability.check();
    h.advance(30_000);
    await h.reachability.check();
    assert.equal(h.reports.length, 0);
    h.setAnswering(true);
    h.setListing(true);
    await h.reachability.check();
    assert.deepEqual(
      h.reports.map((r) => r.canary.name),
      ['web', 'ended-during'],
      'mid-rollout now, or ended since the outage began',
    );
    assert.match(h.reports[0]?.status?.condition?.message ?? '', /did not answer for 30 s .*held meanwhile/);
  });

  it('counts a probe that does not answer in time as a failure, and sends no second one meanwhile', async () => {
    let probes = 0;
    const reachability = new DependencyReachability({
      name: 'the Kubernetes API server',
      reason: 'APIServerUnreachable',
      address: 'https://127.0.0.1:6443',
      probe: () => {
        probes++;
        return new Promise(() => undefined); // a frozen API server
      },
      probeTimeoutMs: 20,
      log: { error: () => undefined, warn: () => undefined, info: () => undefined } as unknown as Logger,
      listCanaries: () => Promise.resolve([]),
      reportProgress: () => Promise.resolve({ found: true, phaseChanged: false, eventsCreated: 0 }),
      unreachableAfterMs: 0,
    });
    await reachability.check();
    await reachability.check();
    assert.equal(probes, 1);
    assert.match(reachability.describe(), /unreachable since .*no answer/);
  });
});
