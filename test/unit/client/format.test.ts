import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatAge,
  formatDuration,
  formatThresholdRange,
  formatValue,
  progressBar,
  renderHistory,
  renderList,
  renderRunning,
  renderWatchFrame,
  table,
  temporalUiLink,
} from '../../../client/format.ts';
import type { RunningView } from '../../../client/format.ts';
import type { RolloutStatus } from '../../../workflows/messages.ts';

process.env.TZ = 'UTC';
const now = new Date('2025-03-01T12:00:00Z');

test('the progress bar fills in proportion to good iterations and clamps at both ends', () => {
  assert.equal(progressBar(0, 10, 10), '[░░░░░░░░░░] 0/10');
  assert.equal(progressBar(3, 10, 10), '[███░░░░░░░] 3/10');
  assert.equal(progressBar(10, 10, 10), '[██████████] 10/10');
  assert.equal(progressBar(12, 10, 4), '[████] 12/10');
  assert.equal(progressBar(0, 0, 4), '[░░░░] 0/0');
});

test('durations and ages read like kubectl', () => {
  assert.equal(formatDuration(-5), '0s');
  assert.equal(formatDuration(450), '450ms');
  assert.equal(formatDuration(1_500), '1.5s');
  assert.equal(formatDuration(42_000), '42s');
  assert.equal(formatDuration(185_000), '3m05s');
  assert.equal(formatDuration(7_800_000), '2h10m');
  assert.equal(formatDuration(3 * 86_400_000 + 3_600_000), '3d1h');
  assert.equal(formatAge('2025-03-01T11:59:55Z', now), '5s');
  assert.equal(formatAge('2025-03-01T11:30:00Z', now), '30m');
  assert.equal(formatAge('2025-02-25T12:00:00Z', now), '4d');
  assert.equal(formatAge(undefined, now), '-');
});

test('threshold ranges and values', () => {
  assert.equal(formatThresholdRange({ min: 99 }), '>= 99');
  assert.equal(formatThresholdRange({ max: 500 }), '<= 500');
  assert.equal(formatThresholdRange({ min: 10, max: 20 }), '10 .. 20');
  assert.equal(formatThresholdRange({}), 'any');
  assert.equal(formatValue(99.87345), '99.873');
  assert.equal(formatValue(undefined), 'no data');
});

test('UI links encode the workflow id, whose slashes are part of it', () => {
  assert.equal(
    temporalUiLink('http://ui:8233', 'default', 'cutover/test/podinfo/rollout/abc', 'run-1'),
    'http://ui:8233/namespaces/default/workflows/cutover%2Ftest%2Fpodinfo%2Frollout%2Fabc/run-1',
  );
});

test('tables align columns and leave the last one unpadded', () => {
  assert.equal(
    table(
      ['A', 'LONG'],
      [
        ['xyz', 'b'],
        ['q', ''],
      ],
    ),
    'A    LONG\nxyz  b\nq\n',
  );
});

test('list rows: canary, phase, short revision, image, k/N, failed/threshold, age, rollout link', () => {
  const out = renderList(
    [
      {
        namespace: 'test',
        name: 'podinfo',
        phase: 'Progressing',
        revision: '0123456789abcdef',
        image: 'ghcr.io/stefanprodan/podinfo:6.1.0',
        iteration: 3,
        iterations: 10,
        failedChecks: 1,
        threshold: 2,
        createdAt: '2025-03-01T11:00:00Z',
        rollout: { workflowId: 'w', runId: 'r', url: 'http://ui/w/r' },
      },
      { namespace: 'prod', name: 'api', threshold: 1 },
    ],
    now,
  );
  assert.equal(
    out,
    [
      'CANARY        PHASE        REVISION  IMAGE                               ITERATION  FAILED  AGE  ROLLOUT',
      'test/podinfo  Progressing  01234567  ghcr.io/stefanprodan/podinfo:6.1.0  3/10       1/2     60m  http://ui/w/r',
      'prod/api      -            -         -                                   0/-        0/1     -    -',
      '',
    ].join('\n'),
  );
  assert.equal(renderList([], now), 'No canaries found.\n');
});

const status: RolloutStatus = {
  canary: { name: 'podinfo', namespace: 'test', target: 'podinfo' },
  revision: '0123456789abcdef',
  phase: 'Progressing',
  iteration: 2,
  iterations: 4,
  failedChecks: 1,
  threshold: 2,
  metrics: {
    'request-success-rate': {
      name: 'request-success-rate',
      value: 97.5,
      thresholdRange: { min: 99 },
      passed: false,
      message: 'Halt podinfo.test advancement success rate 97.50% < 99%',
      at: '2025-03-01T11:59:58Z',
    },
  },
  hooks: {
    'load-test': {
      name: 'load-test',
      type: 'rollout',
      ok: true,
      status: 200,
      message: 'HTTP 200',
      at: '2025-03-01T11:59:57Z',
    },
  },
  wait: { what: 'next iteration', until: '2025-03-01T12:00:04Z' },
  manualActions: [{ action: 'promote', by: 'alice', reason: 'hotfix', at: '2025-03-01T11:59:59Z' }],
  startedAt: '2025-03-01T11:58:00Z',
  message: 'Halt podinfo.test advancement success rate 97.50% < 99%',
};
const view: RunningView = {
  workflowId: 'cutover/test/podinfo/rollout/0123456789abcdef',
  runId: 'r1',
  url: 'http://ui/x',
  status,
};

test('status of a running rollout: every field of the query, checks against their range, who steered', () => {
  const out = renderRunning(view, now);
  assert.match(out, /^Canary +test\/podinfo \(target podinfo\)$/m);
  assert.match(
    out,
    /^Rollout +cutover\/test\/podinfo\/rollout\/0123456789abcdef, started 11:58:00 \(2m00s ago\)$/m,
  );
  assert.match(out, /^Iteration +\[██████████░░░░░░░░░░\] 2\/4$/m);
  assert.match(out, /^Failed checks +1\/2$/m);
  assert.match(out, /^Waiting for +next iteration until 12:00:04 \(in 4s\)$/m);
  assert.match(out, /^ {2}request-success-rate +97\.5 +>= 99 +FAIL +2s ago$/m);
  assert.match(out, /^ {2}load-test +rollout +ok +3s ago +HTTP 200$/m);
  assert.match(out, /^ {2}2025-03-01 11:59:59 {2}promote by alice \(as typed\): hotfix$/m);
  assert.match(out, /^Temporal UI: http:\/\/ui\/x$/m);
});

test('a watch frame: phase, bar, each check against its range, time to the next iteration', () => {
  assert.equal(
    renderWatchFrame(view, now),
    [
      'test/podinfo  revision 01234567  Progressing',
      '[███████████████░░░░░░░░░░░░░░░] 2/4  failed checks 1/2',
      '  FAIL  request-success-rate  97.5 (want >= 99)',
      '  ok    load-test (rollout)  HTTP 200',
      'next iteration in 4s',
      'Halt podinfo.test advancement success rate 97.50% < 99%',
      '',
    ].join('\n'),
  );
});

test('history: one block per rollout with outcome, reason, who steered and the link', () => {
  const out = renderHistory('test/podinfo', [
    {
      workflowId: 'cutover/test/podinfo/rollout/0123456789abcdef',
      runId: 'r1',
      kind: 'rollout',
      revision: '0123456789abcdef',
      startTime: '2025-03-01T11:00:00Z',
      closeTime: '2025-03-01T11:05:00Z',
      outcome: 'rolled-back',
      reason: 'Rolling back podinfo.test aborted by bob: error budget',
      manualActions: [{ action: 'abort', by: 'bob', reason: 'error budget', at: '2025-03-01T11:04:59Z' }],
      url: 'http://ui/x',
    },
  ]);
  assert.equal(
    out,
    [
      '01234567  rollout     2025-03-01 11:00:00 → 11:05:00  rolled-back',
      '  Rolling back podinfo.test aborted by bob: error budget',
      '  2025-03-01 11:04:59  abort by bob (as typed): error budget',
      '  cutover/test/podinfo/rollout/0123456789abcdef',
      '  http://ui/x',
      '',
    ].join('\n'),
  );
  assert.equal(renderHistory('test/podinfo', []), 'No rollouts of test/podinfo recorded in Temporal.\n');
});
