// One rollout told step by step from its Temporal event history: each activity with the key fields
// of its input and its result, each timer, each signal with who sent it and why, each phase change.
// Pure: it reads events, decodes payloads with the default converter and returns lines of text.
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload, WorkflowHandle } from '@temporalio/client';
import { formatDuration } from './format.ts';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
export type HistoryEvent = NonNullable<History['events']>[number];

export interface Step {
  at?: Date;
  kind: 'workflow' | 'activity' | 'timer' | 'signal' | 'phase' | 'signal-out';
  /** What happened: the activity's name, the timer's duration, the signal's name. */
  what: string;
  /** Key fields of the input (activities, signals, the start). */
  input?: string;
  /** The result, failure or how the timer ended. */
  result?: string;
  /** For activities: how many attempts it took. */
  attempts?: number;
}

/** Protobuf int64 fields arrive as `Long` objects from the server and as numbers from tests. */
function int64(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value && typeof (value as { toNumber?: unknown }).toNumber === 'function') {
    return (value as { toNumber(): number }).toNumber();
  }
  return Number(value ?? 0);
}

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

function timestampMs(ts: Timestamp): number | undefined {
  if (!ts) return undefined;
  return int64(ts.seconds) * 1_000 + Math.floor((ts.nanos ?? 0) / 1_000_000);
}

type PayloadsLike = { payloads?: Payload[] | null } | null | undefined;

/** Decodes the first payload of a list (Cutover's messages and activities take one object). */
export function firstPayload(payloads: PayloadsLike): unknown {
  const payload = payloads?.payloads?.[0];
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return '<undecodable payload>';
  }
}

const fieldLimit = 60;
const lineLimit = 240;

function clip(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/**
 * The key fields of an activity's input or result, on one line: scalars as `key=value`, nested
 * objects by their `name` (a canary, a metric) or their own scalars, lists by their items' names or
 * messages. Undefined fields are left out.
 */
export function keyFields(value: unknown, depth = 0): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'string') {
    // Plain words stay plain; a value with spaces (a message) is quoted so the fields stay apart.
    return clip(depth === 0 || /^[^\s"]+$/.test(value) ? value : JSON.stringify(value), fieldLimit);
  }
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) {
    if (depth >= 2) return `[${value.length}]`;
    return `[${value.map((item) => itemLabel(item, depth)).join(', ')}]`;
  }
  const record = value as Record<string, unknown>;
  if (depth >= 1 && typeof record.name === 'string') return record.name;
  if (depth >= 2) return '{…}';
  const parts = Object.entries(record)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${keyFields(v, depth + 1)}`);
  const joined = parts.join(' ');
  return depth === 0 ? clip(joined, lineLimit) : `{${joined}}`;
}

function itemLabel(item: unknown, depth: number): string {
  if (item && typeof item === 'object' && !Array.isArray(item)) {
    const record = item as Record<string, unknown>;
    if (typeof record.message === 'string') return clip(JSON.stringify(record.message), fieldLimit);
    if (typeof record.name === 'string') return record.name;
  }
  return keyFields(item, depth + 2);
}

/** What a steering signal carried: `promote by alice: hotfix verified`. */
function signalInput(name: string, input: unknown): string {
  if (input && typeof input === 'object') {
    const { by, reason } = input as { by?: unknown; reason?: unknown };
    if (typeof by === 'string')
      return `${name} by ${by}: ${typeof reason === 'string' && reason ? reason : '(no reason)'}`;
  }
  return input === undefined ? name : `${name} ${keyFields(input)}`;
}

function startInput(input: unknown): string {
  if (!input || typeof input !== 'object') return keyFields(input);
  const { canary, revision, supersedes, resume } = input as {
    canary?: { namespace?: string; name?: string };
    revision?: string;
    supersedes?: string;
    resume?: { iteration?: number; phase?: string };
  };
  const parts = [`canary=${canary?.namespace}/${canary?.name}`, `revision=${revision}`];
  if (supersedes) parts.push(`supersedes=${supersedes}`);
  if (resume) parts.push(`resumes at iteration ${resume.iteration} (${resume.phase})`);
  return parts.join(' ');
}

function failureText(
  failure: { message?: string | null; cause?: { message?: string | null } | null } | null | undefined,
): string {
  const message = failure?.message ?? 'failed';
  const cause = failure?.cause?.message;
  return cause && cause !== message ? `${message}: ${cause}` : message;
}

/** The steps of one run, in the order they began. */
export function historySteps(events: readonly HistoryEvent[]): Step[] {
  const steps: Step[] = [];
  const activities = new Map<string, Step>();
  const timers = new Map<string, Step>();
  const attempts = new Map<string, number>();
  const id = (value: unknown): string => String(value ?? '');
  for (const e of events) {
    const ms = timestampMs(e.eventTime);
    const at = ms === undefined ? undefined : new Date(ms);
    const eventId = id(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) {
      const a = e.workflowExecutionStartedEventAttributes;
      steps.push({
        at,
        kind: 'workflow',
        what: `started ${a.workflowType?.name ?? ''}`,
        input: startInput(firstPayload(a.input)),
      });
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const step: Step = {
        at,
        kind: 'activity',
        what: a.activityType?.name ?? 'activity',
        input: keyFields(firstPayload(a.input)),
      };
      activities.set(eventId, step);
      steps.push(step);
    } else if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
      // Engine v2 runs its analysis ticks, hook gates and reports as local activities: one marker
      // each, with the activity's name and result (its input is not kept in the history).
      const details = e.markerRecordedEventAttributes.details ?? {};
      const data = firstPayload(details.data) as { activity_type?: string; attempt?: number } | undefined;
      const failure = e.markerRecordedEventAttributes.failure;
      steps.push({
        at,
        kind: 'activity',
        what: data?.activity_type ?? 'local activity',
        result: failure ? `FAILED ${failureText(failure)}` : keyFields(firstPayload(details.result)),
        ...(data?.attempt !== undefined ? { attempts: data.attempt } : {}),
      });
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      attempts.set(id(a.scheduledEventId), a.attempt ?? 1);
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const step = activities.get(id(a.scheduledEventId));
      if (step) {
        step.result = keyFields(firstPayload(a.result));
        step.attempts = attempts.get(id(a.scheduledEventId));
      }
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      const step = activities.get(id(a.scheduledEventId));
      if (step) {
        step.result = `FAILED ${failureText(a.failure)}`;
        step.attempts = attempts.get(id(a.scheduledEventId));
      }
    } else if (e.activityTaskTimedOutEventAttributes) {
      const step = activities.get(id(e.activityTaskTimedOutEventAttributes.scheduledEventId));
      if (step) step.result = `TIMED OUT ${failureText(e.activityTaskTimedOutEventAttributes.failure)}`;
    } else if (e.timerStartedEventAttributes) {
      const a = e.timerStartedEventAttributes;
      const step: Step = {
        at,
        kind: 'timer',
        what: `${formatDuration(timestampMs(a.startToFireTimeout) ?? 0)}`,
      };
      timers.set(id(a.timerId), step);
      steps.push(step);
    } else if (e.timerFiredEventAttributes) {
      const step = timers.get(id(e.timerFiredEventAttributes.timerId));
      if (step) step.result = 'fired';
    } else if (e.timerCanceledEventAttributes) {
      const step = timers.get(id(e.timerCanceledEventAttributes.timerId));
      if (step) step.result = 'cut short';
    } else if (e.workflowExecutionSignaledEventAttributes) {
      const a = e.workflowExecutionSignaledEventAttributes;
      const name = a.signalName ?? 'signal';
      steps.push({
        at,
        kind: 'signal',
        what: name,
        input: signalInput(name, firstPayload(a.input)),
        result: a.identity ? `sent by client ${a.identity}` : undefined,
      });
    } else if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) {
      const a = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
      steps.push({
        at,
        kind: 'signal-out',
        what: `${a.signalName ?? 'signal'} → ${a.workflowExecution?.workflowId ?? '?'}`,
        input: keyFields(firstPayload(a.input)),
      });
    } else if (e.upsertWorkflowSearchAttributesEventAttributes) {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {};
      const phase = fields.CutoverPhase ? firstPayload({ payloads: [fields.CutoverPhase] }) : undefined;
      if (phase !== undefined)
        steps.push({
          at,
          kind: 'phase',
          what: `${Array.isArray(phase) ? phase.join(',') : String(phase)}`,
        });
    } else if (e.workflowExecutionCompletedEventAttributes) {
      steps.push({
        at,
        kind: 'workflow',
        what: 'completed',
        result: keyFields(firstPayload(e.workflowExecutionCompletedEventAttributes.result)),
      });
    } else if (e.workflowExecutionFailedEventAttributes) {
      steps.push({
        at,
        kind: 'workflow',
        what: 'failed',
        result: failureText(e.workflowExecutionFailedEventAttributes.failure),
      });
    } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
      const a = e.workflowExecutionContinuedAsNewEventAttributes;
      steps.push({
        at,
        kind: 'workflow',
        what: 'continued as new',
        result: `next run ${a.newExecutionRunId ?? '?'}`,
      });
    } else if (e.workflowExecutionTerminatedEventAttributes) {
      const a = e.workflowExecutionTerminatedEventAttributes;
      steps.push({
        at,
        kind: 'workflow',
        what: 'terminated',
        result: `${a.reason ?? ''}${a.identity ? ` (by ${a.identity})` : ''}`,
      });
    } else if (e.workflowExecutionCanceledEventAttributes) {
      steps.push({ at, kind: 'workflow', what: 'canceled' });
    } else if (e.workflowExecutionTimedOutEventAttributes) {
      steps.push({ at, kind: 'workflow', what: 'timed out' });
    }
  }
  return steps;
}

function clock(at: Date | undefined): string {
  if (!at) return '--:--:--.---';
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}.${p(at.getMilliseconds(), 3)}`;
}

export function renderSteps(steps: readonly Step[]): string {
  return steps
    .map((s) => {
      const retries = s.attempts && s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
      const input = s.input ? `  ${s.input}` : '';
      const result = s.result ? `\n${' '.repeat(14)}→ ${s.result}${retries}` : retries;
      return `${clock(s.at)}  ${s.kind.padEnd(10)} ${s.what}${input}${result}\n`;
    })
    .join('');
}
