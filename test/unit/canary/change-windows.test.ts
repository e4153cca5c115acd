import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeWindows, ChangeWindowVerdict } from '../../../canary/change-control.ts';
import { evaluateChangeWindows, formatInstant, type CoveringFreeze } from '../../../canary/change-windows.ts';

const hour = 3600_000;
const at = (iso: string) => Date.parse(iso);

const officeHours = { name: 'office-hours', schedule: '0 9 * * 1-5', durationMs: 8 * hour };
const fridayAfternoon = { name: 'friday-afternoon', schedule: '0 14 * * 5', durationMs: 66 * hour };

function berlin(allow = [officeHours], deny: ChangeWindows['deny'] = []): ChangeWindows {
  return { timeZone: 'Europe/Berlin', allow, deny };
}

function closed(verdict: ChangeWindowVerdict) {
  assert.equal(verdict.open, false, 'expected the gate closed');
  if (verdict.open) throw new Error('open');
  return verdict;
}

test('no windows and no freezes: always open', () => {
  assert.deepEqual(evaluateChangeWindows(undefined, [], at('2026-12-05T12:00:00Z')), { open: true });
  assert.deepEqual(evaluateChangeWindows({ timeZone: 'UTC', allow: [], deny: [] }, [], Date.now()), {
    open: true,
  });
});

test('on a Saturday, office hours in Berlin open on Monday at 09:00 there, 08:00 UTC', () => {
  const verdict = closed(evaluateChangeWindows(berlin(), [], at('2026-12-05T12:00:00Z')));
  assert.equal(verdict.kind, 'outside-allow');
  assert.equal(verdict.name, 'office-hours');
  assert.equal(verdict.opensAt, '2026-12-07T08:00:00.000Z');
  assert.equal(
    verdict.message,
    'outside deploy window office-hours (0 9 * * 1-5, 8h, Europe/Berlin): opens Mon 2026-12-07 09:00 Europe/Berlin (08:00 UTC)',
  );
});

test('inside office hours the gate is open; at their end it is closed until the next morning', () => {
  assert.deepEqual(evaluateChangeWindows(berlin(), [], at('2026-12-08T09:00:00Z')), { open: true });
  assert.deepEqual(
    evaluateChangeWindows(berlin(), [], at('2026-12-08T08:00:00Z')),
    { open: true },
    'opening minute',
  );
  const evening = closed(evaluateChangeWindows(berlin(), [], at('2026-12-08T16:00:00Z')));
  assert.equal(evening.opensAt, '2026-12-09T08:00:00.000Z', 'the window is [09:00, 17:00)');
});

test('a window that opens in 2 minutes says so, to the minute', () => {
  const now = at('2026-12-07T07:58:00Z');
  const verdict = closed(evaluateChangeWindows(berlin(), [], now));
  assert.equal(Date.parse(verdict.opensAt ?? '') - now, 2 * 60_000);
  assert.match(verdict.message, /opens Mon 2026-12-07 09:00 Europe\/Berlin \(08:00 UTC\)$/);
  const secondsLate = closed(evaluateChangeWindows(berlin(), [], now + 30_000));
  assert.equal(secondsLate.opensAt, '2026-12-07T08:00:00.000Z');
});

test('a deny window beats an allow window, and the gate opens when the next allow window does', () => {
  // Friday 15:00 in Berlin: office hours, but inside friday-afternoon, which ends Monday 08:00.
  const verdict = closed(
    evaluateChangeWindows(berlin([officeHours], [fridayAfternoon]), [], at('2026-12-04T14:00:00Z')),
  );
  assert.equal(verdict.kind, 'deny');
  assert.equal(verdict.name, 'friday-afternoon');
  assert.equal(verdict.opensAt, '2026-12-07T08:00:00.000Z');
  assert.equal(
    verdict.message,
    'deny window friday-afternoon (0 14 * * 5, 66h, Europe/Berlin): opens Mon 2026-12-07 09:00 Europe/Berlin (08:00 UTC), when deploy window office-hours opens',
  );
  // Friday morning is still open.
  assert.deepEqual(
    evaluateChangeWindows(berlin([officeHours], [fridayAfternoon]), [], at('2026-12-04T09:00:00Z')),
    {
      open: true,
    },
  );
});

test('a deny window that ends inside an allow window opens the gate at its end', () => {
  const standup = { name: 'standup', schedule: '0 9 * * 1', durationMs: 2 * hour };
  const verdict = closed(
    evaluateChangeWindows(berlin([officeHours], [standup]), [], at('2026-12-07T09:00:00Z')),
  );
  assert.equal(verdict.kind, 'deny');
  assert.equal(verdict.opensAt, '2026-12-07T10:00:00.000Z');
  assert.equal(
    verdict.message,
    'deny window standup (0 9 * * 1, 2h, Europe/Berlin): opens Mon 2026-12-07 11:00 Europe/Berlin (10:00 UTC)',
  );
});

test('deny windows alone: open outside them', () => {
  const windows: ChangeWindows = { timeZone: 'UTC', allow: [], deny: [fridayAfternoon] };
  assert.deepEqual(evaluateChangeWindows(windows, [], at('2026-12-03T12:00:00Z')), { open: true });
  const verdict = closed(evaluateChangeWindows(windows, [], at('2026-12-05T12:00:00Z')));
  assert.equal(verdict.opensAt, '2026-12-07T08:00:00.000Z');
  assert.equal(
    verdict.message,
    'deny window friday-afternoon (0 14 * * 5, 66h, UTC): opens Mon 2026-12-07 08:00 UTC',
  );
});

test('across the US spring-forward, 09:00 New York is 14:00 UTC on Saturday and 13:00 UTC on Sunday', () => {
  const windows: ChangeWindows = {
    timeZone: 'America/New_York',
    allow: [{ name: 'mornings', schedule: '0 9 * * *', durationMs: hour }],
    deny: [],
  };
  const saturday = closed(evaluateChangeWindows(windows, [], at('2026-03-07T02:00:00Z')));
  assert.equal(saturday.opensAt, '2026-03-07T14:00:00.000Z');
  const sunday = closed(evaluateChangeWindows(windows, [], at('2026-03-07T20:00:00Z')));
  assert.equal(sunday.opensAt, '2026-03-08T13:00:00.000Z');
  assert.match(sunday.message, /opens Sun 2026-03-08 09:00 America\/New_York \(13:00 UTC\)$/);
});

test('a cron time the spring-forward skips opens at the first minute after the gap', () => {
  // 02:30 does not exist in Berlin on 2026-03-29 (02:00 CET becomes 03:00 CEST).
  const windows = berlin([{ name: 'night', schedule: '30 2 * * *', durationMs: hour }]);
  const verdict = closed(evaluateChangeWindows(windows, [], at('2026-03-28T12:00:00Z')));
  assert.equal(verdict.opensAt, '2026-03-29T01:00:00.000Z');
  assert.match(verdict.message, /opens Sun 2026-03-29 03:00 Europe\/Berlin \(01:00 UTC\)$/);
});

test('a duration is elapsed time: across the fall-back a 2h window ends at 02:00 CET, not 03:00', () => {
  // Opens 01:00 CEST (23:00 UTC the day before); 02:00–03:00 occurs twice that night.
  const windows = berlin([{ name: 'night', schedule: '0 1 * * *', durationMs: 2 * hour }]);
  assert.deepEqual(
    evaluateChangeWindows(windows, [], at('2026-10-25T00:30:00Z')),
    { open: true },
    '02:30 CEST',
  );
  const verdict = closed(evaluateChangeWindows(windows, [], at('2026-10-25T01:30:00Z')));
  assert.equal(verdict.opensAt, '2026-10-26T00:00:00.000Z', '01:00 CET the next night');
});

test('RRULE schedules are read in the time zone, across DST too', () => {
  const weekly = berlin([
    { name: 'early-week', schedule: 'FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=9', durationMs: 8 * hour },
  ]);
  assert.equal(
    closed(evaluateChangeWindows(weekly, [], at('2026-12-05T12:00:00Z'))).opensAt,
    '2026-12-07T08:00:00.000Z',
  );
  assert.equal(
    closed(evaluateChangeWindows(weekly, [], at('2026-06-06T12:00:00Z'))).opensAt,
    '2026-06-08T07:00:00.000Z',
  );
  assert.deepEqual(evaluateChangeWindows(weekly, [], at('2026-12-08T10:00:00Z')), { open: true });
  const daily = berlin([{ name: 'daily', schedule: 'RRULE:FREQ=DAILY;BYHOUR=9', durationMs: hour }]);
  assert.equal(
    closed(evaluateChangeWindows(daily, [], at('2026-03-28T12:00:00Z'))).opensAt,
    '2026-03-29T07:00:00.000Z',
  );
  assert.equal(
    closed(evaluateChangeWindows(daily, [], at('2026-10-24T12:00:00Z'))).opensAt,
    '2026-10-25T08:00:00.000Z',
  );
});

test('an RRULE with DTSTART keeps its INTERVAL phase: every other Monday from 2026-01-05', () => {
  const fortnightly = berlin([
    {
      name: 'release-train',
      schedule: 'DTSTART:20260105T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2',
      durationMs: 4 * hour,
    },
  ]);
  // 2026-12-07 is 48 weeks after 2026-01-05: a train Monday. 2026-11-30 is not.
  assert.equal(
    closed(evaluateChangeWindows(fortnightly, [], at('2026-11-29T12:00:00Z'))).opensAt,
    '2026-12-07T08:00:00.000Z',
  );
});

test('a freeze beats an open allow window and opens at its end', () => {
  const freeze: CoveringFreeze = {
    name: 'year-end',
    reason: 'Year-end freeze, ask #release',
    start: '2026-12-18T00:00:00Z',
    end: '2027-01-04T08:00:00Z',
  };
  const verdict = closed(evaluateChangeWindows(berlin(), [freeze], at('2026-12-21T09:00:00Z')));
  assert.equal(verdict.kind, 'freeze');
  assert.equal(verdict.name, 'year-end');
  assert.equal(verdict.opensAt, '2027-01-04T08:00:00.000Z');
  assert.equal(
    verdict.message,
    'frozen by RolloutFreeze year-end (Year-end freeze, ask #release): opens Mon 2027-01-04 09:00 Europe/Berlin (08:00 UTC)',
  );
  assert.deepEqual(
    evaluateChangeWindows(berlin(), [freeze], at('2026-12-17T09:00:00Z')),
    { open: true },
    'not yet',
  );
  assert.deepEqual(
    evaluateChangeWindows(berlin(), [freeze], at('2027-01-04T08:00:00Z')),
    { open: true },
    'ended',
  );
});

test('a freeze that ends outside the allow windows opens with the next window, and says so', () => {
  const freeze: CoveringFreeze = { name: 'incident-42', reason: 'db failover', end: '2026-12-05T10:00:00Z' };
  const verdict = closed(evaluateChangeWindows(berlin(), [freeze], at('2026-12-04T10:00:00Z')));
  assert.equal(verdict.opensAt, '2026-12-07T08:00:00.000Z');
  assert.match(
    verdict.message,
    /^frozen by RolloutFreeze incident-42 \(db failover\): opens Mon 2026-12-07 09:00 Europe\/Berlin \(08:00 UTC\), when deploy window office-hours opens$/,
  );
});

test('overlapping freezes chain; one without an end opens only when it is deleted', () => {
  const first: CoveringFreeze = { name: 'a', reason: 'r', end: '2026-12-05T10:00:00Z' };
  const second: CoveringFreeze = {
    name: 'b',
    reason: 'r',
    start: '2026-12-05T09:00:00Z',
    end: '2026-12-05T12:00:00Z',
  };
  const chained = closed(evaluateChangeWindows(undefined, [first, second], at('2026-12-05T08:00:00Z')));
  assert.equal(chained.name, 'a');
  assert.equal(chained.opensAt, '2026-12-05T12:00:00.000Z');
  assert.match(chained.message, /opens Sat 2026-12-05 12:00 UTC, after RolloutFreeze b$/);

  const endless: CoveringFreeze = { name: 'incident', reason: 'outage' };
  const verdict = closed(evaluateChangeWindows(undefined, [endless], Date.now()));
  assert.equal(verdict.opensAt, undefined);
  assert.equal(
    verdict.message,
    'frozen by RolloutFreeze incident (outage): opens when RolloutFreeze incident is deleted or given an end',
  );
});

test('a deny window that covers every day never opens within the horizon, and says so', () => {
  const windows: ChangeWindows = {
    timeZone: 'UTC',
    allow: [officeHours],
    deny: [{ name: 'always', schedule: '0 0 * * *', durationMs: 24 * hour }],
  };
  const verdict = closed(evaluateChangeWindows(windows, [], at('2026-12-05T12:00:00Z')));
  assert.equal(verdict.opensAt, undefined);
  assert.match(verdict.message, /does not open within the next 400 days/);
});

test('of two allow windows, the verdict names the one that opens next', () => {
  const windows = berlin([
    officeHours,
    { name: 'saturday-maintenance', schedule: '0 6 * * 6', durationMs: 2 * hour },
  ]);
  const verdict = closed(evaluateChangeWindows(windows, [], at('2026-12-04T20:00:00Z')));
  assert.equal(verdict.name, 'saturday-maintenance');
  assert.equal(verdict.opensAt, '2026-12-05T05:00:00.000Z');
  assert.match(
    verdict.message,
    /^outside deploy windows office-hours, saturday-maintenance; the next is deploy window saturday-maintenance/,
  );
});

test('a deny window whose schedule cannot be read closes the gate (fail safe)', () => {
  const windows: ChangeWindows = {
    timeZone: 'UTC',
    allow: [],
    deny: [{ name: 'bad', schedule: '61 * * * *', durationMs: hour }],
  };
  const verdict = closed(evaluateChangeWindows(windows, [], Date.now()));
  assert.equal(verdict.kind, 'deny');
  assert.match(verdict.message, /cannot be read/);
});

test('instants are shown in the zone with UTC beside them, with the UTC date when it differs', () => {
  assert.equal(
    formatInstant(at('2026-12-06T23:30:00Z'), 'Europe/Berlin'),
    'Mon 2026-12-07 00:30 Europe/Berlin (Sun 2026-12-06 23:30 UTC)',
  );
  assert.equal(formatInstant(at('2026-12-07T08:00:15Z'), 'UTC'), 'Mon 2026-12-07 08:00:15 UTC');
  assert.equal(
    formatInstant(at('2026-07-01T12:00:00Z'), 'Asia/Kolkata'),
    'Wed 2026-07-01 17:30 Asia/Kolkata (12:00 UTC)',
  );
});

test('windows a minute apart that never open: the search stops after its steps and says how far it looked', () => {
  for (const schedule of ['* * * * *', 'FREQ=MINUTELY']) {
    const windows: ChangeWindows = {
      timeZone: 'UTC',
      allow: [],
      deny: [{ name: 'always', schedule, durationMs: 60_000 }],
    };
    const verdict = closed(evaluateChangeWindows(windows, [], at('2026-12-05T12:00:00Z')));
    assert.equal(verdict.opensAt, undefined);
    assert.match(
      verdict.message,
      /: does not open before \w{3} 2026-12-0\d \d\d:\d\d UTC; change the windows or the freezes$/,
      schedule,
    );
  }
});
