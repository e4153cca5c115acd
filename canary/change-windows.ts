// Whether a change may be made now: a policy's allow and deny windows and the RolloutFreezes that cover
// the namespace, evaluated at one instant. Freezes and deny windows beat allow windows; with allow
// windows, a change is made only inside one. When the gate is closed, the verdict says what closes it
// and when it opens: the first instant at which no freeze and no deny window covers and an allow window
// (if there are any) does, searched forward for at most `horizonMs` (400 days).
//
// Computes only (no I/O, no clock: `nowMs` is given): the `checkChangeWindow` activity reads the
// cluster and calls this; unit tests call it with any instant.
import type { ChangeWindows, ChangeWindowVerdict, DeployWindow } from './change-control.ts';
import { parseSchedule, zoneOffsets, type Schedule } from './deploy-schedule.ts';
import { formatDuration } from './duration.ts';

/** A RolloutFreeze that covers the namespace, as its spec reads (times RFC 3339). */
export interface CoveringFreeze {
  name: string;
  reason: string;
  /** Unset: since forever. */
  start?: string;
  /** Unset: until the freeze is deleted. */
  end?: string;
}

export interface EvaluateOptions {
  /** How far ahead to look for the opening (default 400 days). */
  horizonMs?: number;
}

export const defaultHorizonMs = 400 * 24 * 3600_000;
/** Steps of the search: each jumps past one freeze, deny occurrence or gap between allow occurrences. */
const maxSteps = 5_000;

interface Closure {
  kind: 'freeze' | 'deny' | 'outside-allow';
  name: string;
  /** What is said about it: `deploy window office-hours (0 9 * * 1-5, 8h, Europe/Berlin)`. */
  described: string;
}

interface ReadWindow {
  window: DeployWindow;
  schedule?: Schedule;
  /** Why the schedule cannot be read (the policy was validated, so only for a stale or forged input). */
  unreadable?: string;
}

export function evaluateChangeWindows(
  windows: ChangeWindows | undefined,
  freezes: readonly CoveringFreeze[],
  nowMs: number,
  options: EvaluateOptions = {},
): ChangeWindowVerdict {
  const horizonMs = options.horizonMs ?? defaultHorizonMs;
  const timeZone = windows?.timeZone ?? 'UTC';
  const read = (w: DeployWindow): ReadWindow => {
    const parsed = parseSchedule(w.schedule, timeZone);
    return parsed.ok ? { window: w, schedule: parsed.schedule } : { window: w, unreadable: parsed.reason };
  };
  const allow = (windows?.allow ?? []).map(read);
  const deny = (windows?.deny ?? []).map(read);
  const spans = freezes.map((f) => ({
    freeze: f,
    startMs: f.start === undefined ? -Infinity : Date.parse(f.start),
    endMs: f.end === undefined ? Infinity : Date.parse(f.end),
  }));
  const describeWindow = (w: DeployWindow, what: string): string =>
    `${what} ${w.name} (${w.schedule.trim()}, ${formatDuration(w.durationMs)}, ${timeZone})`;

  // A deny window whose schedule cannot be read denies: closed is the safe answer about change control.
  const unreadableDeny = deny.find((d) => d.unreadable !== undefined);
  if (unreadableDeny) {
    return {
      open: false,
      kind: 'deny',
      name: unreadableDeny.window.name,
      message: `deny window ${unreadableDeny.window.name} cannot be read (${unreadableDeny.unreadable}), so no change is made until the policy is fixed`,
    };
  }

  /** What closes the gate at `t`, and from when it may be open again (at least `t + 1`). */
  const closedAt = (t: number): { closure: Closure; untilMs: number } | undefined => {
    const frozen = spans.filter((s) => s.startMs <= t && t < s.endMs);
    if (frozen.length > 0) {
      const longest = frozen.reduce((a, b) => (b.endMs > a.endMs ? b : a));
      return {
        closure: { kind: 'freeze', name: longest.freeze.name, described: describeFreeze(longest.freeze) },
        untilMs: longest.endMs,
      };
    }
    for (const d of deny) {
      const occurrence = covering(d, t);
      if (occurrence !== undefined) {
        return {
          closure: { kind: 'deny', name: d.window.name, described: describeWindow(d.window, 'deny window') },
          untilMs: occurrence,
        };
      }
    }
    if (allow.length === 0) return undefined;
    let nextOpen = Infinity;
    let opener: DeployWindow | undefined;
    for (const a of allow) {
      if (covering(a, t) !== undefined) return undefined;
      const next = a.schedule?.next(t);
      if (next !== undefined && next < nextOpen) {
        nextOpen = next;
        opener = a.window;
      }
    }
    const first = opener ?? (allow[0] as ReadWindow).window;
    const names = allow.map((a) => a.window.name);
    return {
      closure: {
        kind: 'outside-allow',
        name: first.name,
        described:
          allow.length === 1
            ? describeWindow(first, 'outside deploy window')
            : `outside deploy windows ${names.join(', ')}; the next is ${describeWindow(first, 'deploy window')}`,
      },
      untilMs: nextOpen,
    };
  };

  const now = closedAt(nowMs);
  if (now === undefined) return { open: true };

  // Forward from now, past whatever closes the gate, until nothing does.
  let t = now.untilMs;
  let last = now.closure;
  let opensAt: number | undefined;
  for (let step = 0; step < maxSteps && t <= nowMs + horizonMs; step++) {
    const closed = closedAt(t);
    if (closed === undefined) {
      opensAt = t;
      break;
    }
    if (!(closed.untilMs > t)) break;
    last = closed.closure;
    t = closed.untilMs;
  }

  const { closure } = now;
  let when: string;
  if (opensAt !== undefined) {
    when = `opens ${formatInstant(opensAt, timeZone)}`;
    // The gate opens for another reason than the one that closes it now: say which.
    if (last.kind !== closure.kind || last.name !== closure.name) {
      when += `, ${last.kind === 'outside-allow' ? `when deploy window ${last.name} opens` : `after ${last.kind === 'freeze' ? 'RolloutFreeze' : 'deny window'} ${last.name}`}`;
    }
  } else if (t === Infinity || !Number.isFinite(t)) {
    when =
      last.kind === 'freeze'
        ? `opens when RolloutFreeze ${last.name} is deleted or given an end`
        : `does not open again (${last.kind === 'outside-allow' ? `deploy window ${last.name} has no further opening` : `deny window ${last.name} has no end`})`;
  } else if (t > nowMs + horizonMs) {
    when = `does not open within the next ${Math.round(horizonMs / (24 * 3600_000))} days; change the windows or the freezes`;
  } else {
    // The search took its every step (windows a minute apart) before the horizon.
    when = `does not open before ${formatInstant(t, timeZone)}; change the windows or the freezes`;
  }
  return {
    open: false,
    kind: closure.kind,
    name: closure.name,
    message: `${closure.described}: ${when}`,
    ...(opensAt !== undefined ? { opensAt: new Date(opensAt).toISOString() } : {}),
  };
}

/** The end of the occurrence of `w` that covers `t`, if one does (occurrences are [start, start + duration)). */
function covering(w: ReadWindow, t: number): number | undefined {
  if (w.schedule === undefined || w.window.durationMs <= 0) return undefined;
  // The first opening after t - duration; it covers t when it is not after t.
  const start = w.schedule.next(t - w.window.durationMs);
  if (start === undefined || start > t) return undefined;
  return start + w.window.durationMs;
}

function describeFreeze(freeze: CoveringFreeze): string {
  const reason = freeze.reason.trim().replace(/\s+/g, ' ');
  const shown = reason.length > 200 ? `${reason.slice(0, 199)}\u2026` : reason;
  return `frozen by RolloutFreeze ${freeze.name}${shown ? ` (${shown})` : ''}`;
}

const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/**
 * An instant as a person in `timeZone` reads it, with UTC beside it:
 * `Mon 2026-12-07 09:00 Europe/Berlin (08:00 UTC)`; the UTC date is added when it differs.
 */
export function formatInstant(instantMs: number, timeZone: string): string {
  const utc = wallFields(instantMs);
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return `${utc.day} ${utc.date} ${utc.time} UTC`;
  const local = wallFields(instantMs + zoneOffsets(timeZone).offsetMs(instantMs));
  const utcPart = utc.date === local.date ? `${utc.time} UTC` : `${utc.day} ${utc.date} ${utc.time} UTC`;
  return `${local.day} ${local.date} ${local.time} ${timeZone} (${utcPart})`;
}

function wallFields(wallMs: number): { day: string; date: string; time: string } {
  const d = new Date(wallMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  const seconds = d.getUTCSeconds();
  return {
    day: weekdays[d.getUTCDay()] ?? '',
    date: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${seconds === 0 ? '' : `:${pad(seconds)}`}`,
  };
}
