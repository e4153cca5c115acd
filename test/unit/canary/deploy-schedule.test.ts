import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRruleText, isTimeZone, parseSchedule, zoneOffsets } from '../../../canary/deploy-schedule.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

test('time zones are the runtime\u2019s IANA names', () => {
  for (const zone of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
    assert.equal(isTimeZone(zone), true, zone);
  }
  for (const zone of ['', 'Europe/Berln', 'Mars/Olympus', 'CEST+1'])
    assert.equal(isTimeZone(zone), false, zone);
});

test('cron and RRULE are told apart by the first word', () => {
  assert.equal(isRruleText('FREQ=DAILY'), true);
  assert.equal(isRruleText('RRULE:FREQ=DAILY'), true);
  assert.equal(isRruleText('DTSTART:20260105T090000\nRRULE:FREQ=WEEKLY'), true);
  assert.equal(isRruleText('0 9 * * 1-5'), false);
});

test('a wall time becomes its instant: normal, skipped by spring-forward, passed twice at fall-back', () => {
  const berlin = zoneOffsets('Europe/Berlin');
  assert.equal(iso(berlin.wallToInstant(at('2026-12-07T09:00:00Z'))), '2026-12-07T08:00:00.000Z');
  assert.equal(iso(berlin.wallToInstant(at('2026-07-07T09:00:00Z'))), '2026-07-07T07:00:00.000Z');
  assert.equal(
    iso(berlin.wallToInstant(at('2026-03-29T09:00:00Z'))),
    '2026-03-29T07:00:00.000Z',
    'the day of the change',
  );
  assert.equal(
    iso(berlin.wallToInstant(at('2026-03-29T02:30:00Z'))),
    '2026-03-29T01:30:00.000Z',
    'skipped: 03:30 CEST',
  );
  assert.equal(
    iso(berlin.wallToInstant(at('2026-10-25T02:30:00Z'))),
    '2026-10-25T00:30:00.000Z',
    'twice: the first',
  );
  assert.equal(iso(berlin.wallToInstant(at('2026-10-25T09:00:00Z'))), '2026-10-25T08:00:00.000Z');
  assert.equal(zoneOffsets('Asia/Kolkata').offsetMs(at('2026-01-01T00:00:00Z')), 5.5 * 3600_000);
});

test('next() is the first opening strictly after the instant, for cron and RRULE', () => {
  const cron = parseSchedule('0 9 * * 1-5', 'Europe/Berlin');
  assert.ok(cron.ok);
  assert.equal(iso(cron.schedule.next(at('2026-12-07T07:59:59Z'))), '2026-12-07T08:00:00.000Z');
  assert.equal(
    iso(cron.schedule.next(at('2026-12-07T08:00:00Z'))),
    '2026-12-08T08:00:00.000Z',
    'strictly after',
  );
  const rrule = parseSchedule('FREQ=WEEKLY;BYDAY=MO;BYHOUR=9', 'Europe/Berlin');
  assert.ok(rrule.ok);
  assert.equal(iso(rrule.schedule.next(at('2026-12-07T07:59:59Z'))), '2026-12-07T08:00:00.000Z');
  assert.equal(
    iso(rrule.schedule.next(at('2026-12-07T08:00:00Z'))),
    '2026-12-14T08:00:00.000Z',
    'strictly after',
  );
  const ended = parseSchedule('DTSTART:20260105T090000\nRRULE:FREQ=DAILY;COUNT=2', 'UTC');
  assert.ok(ended.ok);
  assert.equal(iso(ended.schedule.next(at('2026-01-01T00:00:00Z'))), '2026-01-05T09:00:00.000Z');
  assert.equal(ended.schedule.next(at('2026-01-06T09:00:00Z')), undefined, 'a rule with COUNT ends');
  const named = parseSchedule('@weekly', 'UTC');
  assert.ok(named.ok, 'cron nicknames');
});

test('a schedule that names its own time zone is refused: the policy has one', () => {
  const parsed = parseSchedule('DTSTART;TZID=Europe/Berlin:20260105T090000\nRRULE:FREQ=DAILY', 'UTC');
  assert.equal(parsed.ok, false);
  assert.match(parsed.ok ? '' : parsed.reason, /spec.windows.timeZone/);
});
