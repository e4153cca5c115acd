import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../../canary/duration.ts';

test('parses Go durations to milliseconds', () => {
  const cases: [string, number][] = [
    ['500ms', 500],
    ['1s', 1000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['1500us', 1.5],
    ['-2s', -2000],
  ];
  for (const [text, ms] of cases) assert.deepEqual(parseDuration(text), { ok: true, ms }, text);
});

test('rejects garbage with a reason that says how to write it', () => {
  for (const text of ['', '10', '1d', 'abc', '1m30', 's', '1.2.3s']) {
    const result = parseDuration(text);
    assert.equal(result.ok, false, text);
    if (!result.ok) assert.match(result.reason, /\S{3,}/);
  }
  const noUnit = parseDuration('10');
  assert.ok(!noUnit.ok && noUnit.reason.includes('"10s"'));
  const days = parseDuration('1d');
  assert.ok(!days.ok && days.reason.includes('24h'));
});

test('formats back without zero parts, and the text parses to the same number', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [500, '500ms'],
    [1500, '1s500ms'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [-1000, '-1s'],
  ];
  for (const [ms, text] of cases) {
    assert.equal(formatDuration(ms), text);
    assert.deepEqual(parseDuration(text), { ok: true, ms: ms === 0 ? 0 : ms });
  }
});
