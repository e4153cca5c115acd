// When a deploy window opens: its `schedule`, read in an IANA time zone. Two ways to write one, both
// read by libraries rather than by hand: a 5-field cron expression (croner, Vixie cron's rules: day of
// month OR day of week), or an RFC 5545 RRULE (rrule), optionally after a `DTSTART:` line that fixes
// the phase of `INTERVAL` or the start of `COUNT`. Both only compute (no I/O, no clock), so the policy
// validation and the gate evaluation share them; workflow code imports neither (only types).
//
// Wall times that a DST change skips: cron opens at the first minute after the gap (02:30 on the
// spring-forward night in Europe/Berlin opens at 03:00), an RRULE at the same distance past it
// (03:30); a wall time that occurs twice opens at its first occurrence. Both say so in the README.
import { Cron } from 'croner';
import rrule from 'rrule';

export interface Schedule {
  /** The schedule as written, for messages. */
  text: string;
  kind: 'cron' | 'rrule';
  /** The first opening strictly after `afterMs`, or undefined when there is none (an RRULE that ended). */
  next(afterMs: number): number | undefined;
}

export type ScheduleParse = { ok: true; schedule: Schedule } | { ok: false; reason: string };

/** Whether `name` is an IANA time zone this runtime knows (`UTC`, `Europe/Berlin`). */
export function isTimeZone(name: string): boolean {
  if (name === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An RRULE is told from cron by its first word: `FREQ=`, `RRULE:` or `DTSTART`. */
export function isRruleText(text: string): boolean {
  return /^\s*(FREQ=|RRULE:|DTSTART)/i.test(text);
}

/** Reads a schedule in `timeZone` (which the caller has checked with `isTimeZone`). */
export function parseSchedule(text: string, timeZone: string): ScheduleParse {
  if (text.trim() === '') {
    return { ok: false, reason: 'the schedule is empty' };
  }
  return isRruleText(text) ? parseRrule(text, timeZone) : parseCron(text, timeZone);
}

function parseCron(text: string, timeZone: string): ScheduleParse {
  const fields = text.trim().split(/\s+/);
  if (!text.trim().startsWith('@') && fields.length !== 5) {
    return {
      ok: false,
      reason: `"${text}" has ${fields.length} field${fields.length === 1 ? '' : 's'}, but a cron schedule has 5 (minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5"); for anything else write an RRULE (FREQ=...)`,
    };
  }
  let cron: Cron;
  try {
    cron = new Cron(text.trim(), { timezone: timeZone, paused: true, mode: '5-part' });
    // The pattern is checked when parsed; one run proves the time zone and that it ever matches.
    cron.nextRun(new Date(0));
  } catch (error) {
    return { ok: false, reason: `"${text}" is not a cron schedule: ${cronReason(error)}` };
  }
  return {
    ok: true,
    schedule: {
      text,
      kind: 'cron',
      next(afterMs) {
        // croner counts in whole seconds and returns the first run after the given one.
        return cron.nextRun(new Date(afterMs))?.getTime() ?? undefined;
      },
    },
  };
}

function cronReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^CronPattern:\s*/, '').replace(/\.$/, '');
}

const frequencies = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY', 'MINUTELY'] as const;

/**
 * rrule computes in "floating" time: dates whose UTC fields are the wall time of the zone. The rule is
 * expanded there and each opening turned into an instant with the zone's offset at that wall time.
 */
function parseRrule(text: string, timeZone: string): ScheduleParse {
  // DTSTART and the rule, on two lines (a YAML block) or one with a space between (an RRULE has none).
  const lines = text.trim().split(/\s+/);
  const dtstartLine = lines.find((l) => /^DTSTART/i.test(l));
  const ruleLine = lines.find((l) => !/^DTSTART/i.test(l));
  if (ruleLine === undefined) {
    return { ok: false, reason: `"${text}" has a DTSTART but no rule; add one such as FREQ=WEEKLY;BYDAY=MO` };
  }
  const rule = ruleLine.replace(/^RRULE:/i, '');
  const parts = new Map<string, string>();
  for (const part of rule.split(';').filter((p) => p !== '')) {
    const [key, value] = part.split('=');
    if (key === undefined || value === undefined || value === '') {
      return { ok: false, reason: `"${part}" in "${text}" is not NAME=VALUE` };
    }
    parts.set(key.toUpperCase(), value.toUpperCase());
  }
  const freq = parts.get('FREQ');
  if (freq === undefined) {
    return {
      ok: false,
      reason: `"${text}" has no FREQ; start the rule with one of FREQ=${frequencies.join(', FREQ=')}`,
    };
  }
  if (freq === 'SECONDLY' || !(frequencies as readonly string[]).includes(freq)) {
    return {
      ok: false,
      reason: `FREQ=${freq} is not a frequency a deploy window can have; use one of ${frequencies.join(', ')}`,
    };
  }
  if (parts.has('TZID') || (dtstartLine !== undefined && /TZID=/i.test(dtstartLine))) {
    return {
      ok: false,
      reason: `"${text}" names a time zone in the rule; set it once in spec.windows.timeZone instead`,
    };
  }
  let dtstartMs = Date.UTC(2000, 0, 1);
  if (dtstartLine !== undefined) {
    const match = /^DTSTART:(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/i.exec(dtstartLine);
    if (!match) {
      return {
        ok: false,
        reason: `"${dtstartLine}" is not a DTSTART this schedule can read; write the wall time of spec.windows.timeZone without Z, e.g. DTSTART:20260105T090000`,
      };
    }
    const [, y, mo, d, h, mi, s] = match.map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    dtstartMs = Date.UTC(y, mo - 1, d, h, mi, s);
  } else {
    // Without a start, INTERVAL's phase and COUNT's first occurrence would be the year 2000's: ask for one.
    for (const needsStart of ['INTERVAL', 'COUNT'] as const) {
      const value = parts.get(needsStart);
      if (value !== undefined && !(needsStart === 'INTERVAL' && value === '1')) {
        return {
          ok: false,
          reason: `"${text}" uses ${needsStart}=${value}, which counts from the rule's start, and has no DTSTART; put a line DTSTART:YYYYMMDDTHHMMSS (wall time of spec.windows.timeZone) before the rule`,
        };
      }
    }
  }
  let origOptions: RRuleObject['origOptions'];
  try {
    const expanded = rrule.rrulestr(`RRULE:${rule}`, { dtstart: new Date(dtstartMs) }) as RRuleObject;
    // Expands once, so that a rule rrule cannot expand (BYDAY=XX) is refused now, not at a gate.
    expanded.after(new Date(dtstartMs), true);
    origOptions = expanded.origOptions;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `"${text}" is not an RRULE rrule can read (${reason})` };
  }
  const offsets = zoneOffsets(timeZone);
  const period = fixedPeriodMs[freq as (typeof frequencies)[number]];
  const step = period === undefined ? undefined : period * Number(parts.get('INTERVAL') ?? '1');
  const counted = parts.has('COUNT');
  /**
   * The rule from a start near `wallMs`: rrule expands from its DTSTART on, so a start in 2000 would
   * walk every minute since then. A start moved by whole periods (of a fixed length: minutes to
   * weeks, in floating time) keeps every occurrence after it; COUNT counts from the real start.
   */
  const ruleNear = (wallMs: number): RRuleObject => {
    let start = dtstartMs;
    if (step !== undefined && !counted && wallMs - step > dtstartMs) {
      start = dtstartMs + Math.floor((wallMs - step - dtstartMs) / step) * step;
    }
    return new rrule.RRule({ ...origOptions, dtstart: new Date(start) }) as RRuleObject;
  };
  // Occurrences as instants, sorted, from one expansion: every occurrence after `from` up to
  // `safeUntil` is there. A gate's search moves forward, asking at t - duration and at t, so the
  // last two expansions are kept and answer most questions.
  interface Expansion {
    from: number;
    instants: number[];
    safeUntil: number;
  }
  let recent: Expansion[] = [];
  const batch = 512;
  const margin = 3 * 3600_000; // more than any DST change: floating and instant order differ by less
  const answer = (expansion: Expansion, afterMs: number): number | undefined | 'unknown' => {
    if (afterMs < expansion.from) return 'unknown';
    const found = expansion.instants.find((i) => i > afterMs);
    if (found !== undefined && found <= expansion.safeUntil) return found;
    return expansion.safeUntil === Infinity ? undefined : 'unknown';
  };
  return {
    ok: true,
    schedule: {
      text,
      kind: 'rrule',
      next(afterMs) {
        for (const expansion of recent) {
          const known = answer(expansion, afterMs);
          if (known !== 'unknown') return known;
        }
        const fromWall = afterMs + offsets.offsetMs(afterMs) - margin;
        const floating = ruleNear(fromWall).between(
          new Date(fromWall),
          new Date(8.64e15),
          true,
          (_d, count) => count < batch,
        );
        const instants = floating.map((d) => offsets.wallToInstant(d.getTime())).sort((a, b) => a - b);
        const last = floating.at(-1);
        const expansion: Expansion = {
          from: afterMs,
          instants,
          // Fewer than asked: the rule has ended, and every later occurrence is here.
          safeUntil:
            floating.length < batch || last === undefined
              ? Infinity
              : offsets.wallToInstant(last.getTime()) - margin,
        };
        recent = [expansion, ...recent.slice(0, 1)];
        const known = answer(expansion, afterMs);
        return known === 'unknown' ? instants.find((i) => i > afterMs) : known;
      },
    },
  };
}

type RRuleObject = InstanceType<typeof rrule.RRule>;

/** The frequencies whose periods have one length in floating time (no DST there), in ms. */
const fixedPeriodMs: Partial<Record<(typeof frequencies)[number], number>> = {
  MINUTELY: 60_000,
  HOURLY: 3_600_000,
  DAILY: 86_400_000,
  WEEKLY: 604_800_000,
};

/** Offsets of one time zone, from Intl (the runtime's tz database). */
export function zoneOffsets(timeZone: string): {
  /** The zone's offset from UTC at `instantMs`, in ms (Europe/Berlin in winter: 3600000). */
  offsetMs(instantMs: number): number;
  /** The instant of a wall time (its UTC fields); a skipped wall time moves forward by the gap. */
  wallToInstant(wallMs: number): number;
} {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const offsetMs = (instantMs: number): number => {
    const fields: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(instantMs))) {
      if (part.type !== 'literal') fields[part.type] = Number(part.value);
    }
    const wall = Date.UTC(
      fields.year ?? 1970,
      (fields.month ?? 1) - 1,
      fields.day ?? 1,
      fields.hour ?? 0,
      fields.minute ?? 0,
      fields.second ?? 0,
    );
    return wall - Math.floor(instantMs / 1000) * 1000;
  };
  return {
    offsetMs,
    wallToInstant(wallMs) {
      // The offsets a day either side; a wall time is the instant whose own offset brings it back.
      // Two such instants (a wall time that occurs twice): the first. None (a skipped wall time): the
      // offset from before the gap, which moves it past the gap by the gap's length.
      const earlier = offsetMs(wallMs - 24 * 3600_000);
      const later = offsetMs(wallMs + 24 * 3600_000);
      const candidates = [wallMs - earlier, wallMs - later].filter((at) => at + offsetMs(at) === wallMs);
      return candidates.length > 0 ? Math.min(...candidates) : wallMs - earlier;
    },
  };
}
