// Durations as Flagger users write them: Go's `time.ParseDuration` syntax ("500ms", "10s", "1m30s",
// "1.5h"), because that is what Flagger parses `analysis.interval`, metric intervals and webhook
// timeouts with. Cutover works in milliseconds (Temporal timers and activity timeouts take ms).

export type DurationParse = { ok: true; ms: number } | { ok: false; reason: string };

const NS_PER_MS = 1e6;

// Go's units, in nanoseconds. Go accepts both the micro sign (U+00B5) and the Greek mu (U+03BC).
const unitNs: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

// Go rejects durations beyond int64 nanoseconds (about 292 years); so do we, rather than return
// a number that silently lost its meaning.
const MAX_NS = 2 ** 63 - 1;

const EXAMPLES = 'write it like "30s", "1m" or "1m30s"';

/**
 * Parses a Go duration to milliseconds (fractional below a millisecond, e.g. "1500us" → 1.5).
 * Negative durations parse, as in Go; whoever needs a positive one says so with the field's name.
 */
export function parseDuration(text: string): DurationParse {
  if (text === '') return { ok: false, reason: `the duration is empty; ${EXAMPLES}` };
  let rest = text;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  // Go accepts a bare "0" (and "-0", "+0") without a unit; nothing else.
  if (rest === '0') return { ok: true, ms: 0 };
  if (rest === '') return { ok: false, reason: `"${text}" has no number; ${EXAMPLES}` };

  let totalNs = 0;
  const component = /^(\d*)(?:\.(\d*))?([^\d.]*)/;
  while (rest !== '') {
    const match = component.exec(rest);
    const whole = match?.[1] ?? '';
    const fraction = match?.[2];
    const unit = match?.[3] ?? '';
    if (whole === '' && (fraction === undefined || fraction === '')) {
      return { ok: false, reason: `"${text}" is not a duration; ${EXAMPLES}` };
    }
    if (unit === '') {
      return {
        ok: false,
        reason: `"${text}" has a number without a unit; add one of ms, s, m, h (e.g. "${whole || '0'}s")`,
      };
    }
    const ns = unitNs[unit];
    if (ns === undefined) {
      const hint = unit === 'd' ? ' (for days write hours, e.g. "24h")' : '';
      return {
        ok: false,
        reason: `"${text}" uses the unit "${unit}", which Go durations do not have; use ns, us, ms, s, m or h${hint}`,
      };
    }
    const value = Number(`${whole || '0'}.${fraction || '0'}`);
    totalNs += Math.round(value * ns);
    if (totalNs > MAX_NS) return { ok: false, reason: `"${text}" is too long a duration (over 292 years)` };
    rest = rest.slice(match?.[0].length ?? rest.length);
  }
  return { ok: true, ms: (sign * totalNs) / NS_PER_MS };
}

const formatUnits: readonly (readonly [string, number])[] = [
  ['h', 3600e9],
  ['m', 60e9],
  ['s', 1e9],
  ['ms', 1e6],
  ['us', 1e3],
  ['ns', 1],
];

/**
 * Formats milliseconds as a Go duration, leaving out zero parts: 90000 → "1m30s", 3600000 → "1h",
 * 1500 → "1s500ms". Unlike Go's own "1h0m0s"/"1.5s", every whole-millisecond result is also a valid
 * Prometheus range (`{{ interval }}` ends up in PromQL), and it parses back to the same number.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format ${ms} as a duration`);
  let ns = Math.round(Math.abs(ms) * NS_PER_MS);
  if (ns === 0) return '0s';
  let text = ms < 0 ? '-' : '';
  for (const [unit, size] of formatUnits) {
    const count = Math.floor(ns / size);
    if (count > 0) text += `${count}${unit}`;
    ns -= count * size;
  }
  return text;
}
