import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePolicy, policyEventName, readyStatusPatch } from '../../../worker/rollout-policies.ts';

const invalid = {
  status: 'False',
  reason: 'Invalid',
  message: 'spec.switch.keepWarm is not a duration.',
} as const;

test('the Ready condition is written with the generation it describes, other conditions kept', () => {
  const patch = readyStatusPatch(
    { conditions: [{ type: 'Reviewed', status: 'True' }] },
    3,
    invalid,
    '2026-12-01T10:00:00Z',
  );
  assert.deepEqual(patch, {
    observedGeneration: 3,
    conditions: [
      { type: 'Reviewed', status: 'True' },
      {
        type: 'Ready',
        status: 'False',
        reason: 'Invalid',
        message: invalid.message,
        lastTransitionTime: '2026-12-01T10:00:00Z',
        observedGeneration: 3,
      },
    ],
  });
});

test('a condition that says so already is not written again; a new generation or message is', () => {
  const current = readyStatusPatch({}, 3, invalid, '2026-12-01T10:00:00Z');
  assert.equal(readyStatusPatch(current, 3, invalid, '2026-12-01T11:00:00Z'), undefined);
  const next = readyStatusPatch(current, 4, invalid, '2026-12-01T11:00:00Z');
  const ready = (next?.conditions as { lastTransitionTime: string }[] | undefined)?.at(-1);
  assert.equal(ready?.lastTransitionTime, '2026-12-01T10:00:00Z', 'the status did not change: no transition');
  const fixed = readyStatusPatch(
    current,
    4,
    { status: 'True', reason: 'Resolved', message: 'ok' },
    '2026-12-01T12:00:00Z',
  );
  assert.equal(
    (fixed?.conditions as { lastTransitionTime: string }[] | undefined)?.at(-1)?.lastTransitionTime,
    '2026-12-01T12:00:00Z',
  );
});

test('the condition says in one sentence what a rollout under the policy does', () => {
  assert.match(describePolicy({ name: 'p', strategy: 'copy' }), /^strategy copy/);
  const metric = {
    name: 'request-success-rate',
    interval: '1m',
    intervalMs: 60_000,
    thresholdRange: { min: 99 },
    source: 'builtin',
    builtin: 'request-success-rate',
  } as const;
  assert.equal(
    describePolicy({
      name: 'p',
      strategy: 'switch',
      switch: { keepWarmMs: 600_000, analysis: { intervalMs: 30_000, threshold: 1, metrics: [metric] } },
    }),
    'strategy switch, blue kept warm 10m, 1 post-promotion metric every 30s, flipping back after 1 failed check.',
  );
  assert.match(
    describePolicy({
      name: 'p',
      strategy: 'switch',
      switch: { keepWarmMs: 60_000, analysis: { intervalMs: 30_000, threshold: 1, metrics: [] } },
    }),
    /no post-promotion checks/,
  );
  assert.equal(
    describePolicy({
      name: 'p',
      strategy: 'copy',
      approvals: {
        required: 2,
        users: ['alice', 'bob'],
        groups: ['sre'],
        validForMs: 86_400_000,
        requireVerified: true,
      },
      windows: {
        timeZone: 'Europe/Berlin',
        allow: [{ name: 'office-hours', schedule: '0 9 * * 1-5', durationMs: 8 * 3_600_000 }],
        deny: [{ name: 'friday', schedule: '0 14 * * 5', durationMs: 66 * 3_600_000 }],
      },
      inconclusive: { action: 'pause', pauseAfter: 3 },
    }),
    'strategy copy (the analysed template is copied to the primary, as Flagger does). Promotion needs 2 approvals from users alice, bob; groups sre, each valid 24h. Changes allowed in office-hours, never in friday (Europe/Berlin). Inconclusive checks are skipped, pausing after 3 in a row.',
  );
});

test('event names are stable per policy and message, and fit a Kubernetes name', () => {
  const policy = { name: 'x'.repeat(300), uid: 'u1' };
  assert.equal(policyEventName(policy, 'k'), policyEventName(policy, 'k'));
  assert.notEqual(policyEventName(policy, 'k'), policyEventName(policy, 'other'));
  assert.notEqual(policyEventName(policy, 'k'), policyEventName({ ...policy, uid: 'u2' }, 'k'));
  assert.ok(policyEventName(policy, 'k').length <= 253);
});
