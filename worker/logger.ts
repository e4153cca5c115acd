// Structured logs, written by pino: one JSON object per line on stdout, `{level, time, ...fields, msg}`,
// with the canary's `namespace`/`canary`, `revision` and `workflowId` whenever they are known, so that
// `kubectl logs | jq 'select(.canary == "podinfo")'` follows one rollout. The Temporal SDK's own
// messages (worker lifecycle, activity and workflow logs via `log`) and the Core's forwarded lines
// (main.ts installs the Runtime with `forward` logging) go through the same pino instance.
import { pino } from 'pino';
import type { LogLevel as SdkLogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import type { LogLevel } from './config.ts';

/** Values a log line can carry; anything else is turned into one of these by `toJsonValue`. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Any level, and optionally the time the event happened (default now). */
  log(level: LogLevel, msg: string, fields?: LogFields, time?: Date): void;
  /** A logger whose lines all carry `fields` (a line's own fields win). */
  child(fields: LogFields): Logger;
  isEnabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  /** Where lines go; default stdout (written synchronously, so the last line before an exit is kept). */
  write?: (line: string) => void;
  /** Default: the wall clock. */
  now?: () => Date;
}

export function createLogger(level: LogLevel, options: LoggerOptions = {}): Logger {
  const destination = options.write ? { write: options.write } : pino.destination({ dest: 1, sync: true });
  const root = pino(
    {
      level,
      base: null,
      // The time is a field of each line: a Core line carries the time it happened, not the time
      // it reached JavaScript.
      timestamp: false,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const now = options.now ?? (() => new Date());
  return makeLogger(root, {}, now);
}

function makeLogger(root: pino.Logger, bound: LogFields, now: () => Date): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields, time?: Date) => {
    if (!root.isLevelEnabled(level)) return;
    root[level](lineFields(time ?? now(), { ...bound, ...fields }), msg);
  };
  return {
    log: emit,
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => makeLogger(root, { ...bound, ...fields }, now),
    isEnabled: (level) => root.isLevelEnabled(level),
  };
}

const reserved = new Set(['time', 'level', 'msg']);

/** The line's time first, then its fields, which never overwrite time, level or msg. */
function lineFields(time: Date, fields: LogFields): LogFields {
  const line: LogFields = { time: time.toISOString() };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    line[reserved.has(key) ? `field.${key}` : key] = toJsonValue(value, 0);
  }
  return line;
}

/** Errors keep their message and stack; bigints, Dates and cycles don't break JSON.stringify. */
function toJsonValue(value: unknown, depth: number): unknown {
  if (value instanceof Error) {
    const error: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.stack !== undefined) error.stack = value.stack;
    if (value.cause !== undefined && depth < 5) error.cause = toJsonValue(value.cause, depth + 1);
    return error;
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (Array.isArray(value)) return depth >= 5 ? '[…]' : value.map((item) => toJsonValue(item, depth + 1));
  if (typeof value === 'object' && value !== null) {
    if (depth >= 5) return '{…}';
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (inner !== undefined) out[key] = toJsonValue(inner, depth + 1);
    }
    return out;
  }
  return value;
}

const fromSdkLevel: Readonly<Record<SdkLogLevel, LogLevel>> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's `Logger` over ours, for `Runtime.install({ logger: temporalLogger(logger) })`.
 * The SDK's metadata is kept as fields (`workflowId`, `runId`, `workflowType`, `activityType`,
 * `taskQueue`, `sdkComponent`, …). TRACE is written as debug: we have no trace level.
 */
export function temporalLogger(logger: Logger): SdkLogger {
  const log = (level: SdkLogLevel, message: string, meta?: LogMetadata) => {
    const ours = fromSdkLevel[level] ?? 'info';
    if (!logger.isEnabled(ours)) return;
    logger.log(ours, message, meta === undefined ? undefined : sdkFields(meta), sdkTime(meta));
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

// The SDK puts the time of a forwarded Core (Rust) log line under this symbol, in nanoseconds since
// the epoch (@temporalio/worker's `LogTimestamp`).
const logTimestamp = Symbol.for('log_timestamp');

function sdkTime(meta: LogMetadata | undefined): Date | undefined {
  const nanos: unknown = meta?.[logTimestamp];
  if (typeof nanos !== 'bigint') return undefined;
  return new Date(Number(nanos / 1_000_000n));
}

/** String keys only: symbol keys are the SDK's internal markers (such as the timestamp above). */
function sdkFields(meta: LogMetadata): LogFields {
  const fields: LogFields = {};
  for (const [key, value] of Object.entries(meta)) fields[key] = value;
  return fields;
}

/**
 * Which of the Core's (Rust) lines are forwarded: its warnings and errors, and its informational
 * lines too at debug; other crates' only when they are errors (at debug, warnings).
 */
export function coreLogFilter(level: LogLevel): { core: SdkLogLevel; other: SdkLogLevel } {
  return level === 'debug' ? { core: 'INFO', other: 'WARN' } : { core: 'WARN', other: 'ERROR' };
}
