// A step that keeps failing while Temporal retries it is said on its Canary, so a rollout held up by
// the cluster (the API server refusing or timing out writes, a quota, an admission webhook) does not
// sit in `Progressing` with the reason only in Temporal's pending activities. After a few failed
// attempts of a step whose retries are unbounded: a `Stalled` condition (True, reason `StepRetrying`)
// and a Warning event naming the step, the attempts and the last error, plus an alert where the
// Canary has alerts; said again at the 10th, 30th and every 100th attempt. When the step then
// succeeds: `Stalled` False (reason `Recovered`) and a Normal event. Steps whose retries are bounded
// (a metric query, a webhook, an alert) are not reported here: their last failure is the workflow's
// to word (a failed check, a closed gate).
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { hashHex } from '../canary/revision.ts';
import { redactText } from '../canary/redact.ts';
import type { CanaryRef } from '../resources/owner.ts';
import type { CanaryStatusUpdate, ReportProgressInput, ReportProgressResult } from './canary-status.ts';
import type { RolloutContext, RolloutStepDeps } from './rollout/context.ts';
import { reportRollout } from './rollout/report.ts';
import { wrapActivities, type AsyncFunction } from './wrap-activities.ts';

export const stalledConditionType = 'Stalled';

/** The first attempt that fails is retried quietly; the third is said. */
export const firstReportedAttempt = 3;

/** Attempts at which a step that still fails is said (again): 3, 10, 30, then every 100th. */
export function isReportedAttempt(attempt: number): boolean {
  return (
    attempt === firstReportedAttempt ||
    attempt === 10 ||
    attempt === 30 ||
    (attempt >= 100 && attempt % 100 === 0)
  );
}

/** What the failing step does, in a user's words; the activity's name otherwise. */
const stepWords: Readonly<Record<string, string>> = {
  scaleUpCanary: 'scaling up the canary Deployment',
  promoteCanary: 'copying the canary template to the primary',
  scaleDeployment: 'scaling a Deployment',
  pointApexAtPrimary: 'pointing the apex Service at the primary',
  waitForDeploymentReady: 'waiting for a Deployment to be ready',
  checkDeploymentReady: 'reading a Deployment',
  waitForWorkflowClosed: 'waiting for the previous rollout to hand over',
  reportProgress: 'writing the Canary status',
  runAnalysisTick: 'the analysis check',
  runHooks: 'calling the webhooks of a gate',
  reportRollout: 'reporting the rollout step',
  rollBackCanary: 'rolling back',
  completePromotion: 'finishing the promotion',
  switchApex: 'switching the apex Service',
  checkChangeWindow: 'reading the deploy windows and freezes',
};

export function stepName(activityType: string): string {
  return stepWords[activityType] ?? activityType;
}

export interface RetryReportDeps {
  /** Unwrapped (a report must not be reported). */
  reportProgress(input: ReportProgressInput): Promise<ReportProgressResult>;
  readCanary(input: { namespace: string; name: string }): Promise<Record<string, unknown> | null>;
  /** For steps that carry their rollout's context: events to `event` hooks, the alert. Unwrapped. */
  stepDeps?: () => RolloutStepDeps;
  /** How long the failing attempt waits for its report before it fails anyway (default 3000 ms). */
  waitMs?: number;
}

/** The activity contexts inside a reporting wrapper: a step that calls another activity's function is reported once. */
const reporting = new WeakSet<Context>();

function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** The Canary the step acts for, when its input names it with its uid (`canary` or `context.canary`). */
export function canaryOfInput(input: unknown): CanaryRef | undefined {
  const candidates = [
    (input as { context?: { canary?: unknown } } | undefined)?.context?.canary,
    (input as { canary?: unknown } | undefined)?.canary,
  ];
  for (const candidate of candidates) {
    const c = candidate as Partial<CanaryRef> | undefined;
    if (c && isString(c.name) && isString(c.namespace) && isString(c.uid)) {
      return { name: c.name, namespace: c.namespace, uid: c.uid };
    }
  }
  return undefined;
}

/**
 * The Canary a Cutover workflow id names (client/workflow-ids.ts): `cutover/<ns>/<name>/rollout/<rev>/<uid8>`
 * or `cutover/<ns>/<name>/init/<uid>`, with the uid or its first 8 characters.
 */
export function canaryOfWorkflowId(
  workflowId: string,
): { namespace: string; name: string; uidPrefix: string } | undefined {
  const parts = workflowId.split('/');
  const [root, namespace, name, kind] = parts;
  if (root !== 'cutover' || !isString(namespace) || !isString(name)) return undefined;
  const uidPrefix = kind === 'rollout' ? parts[5] : kind === 'init' ? parts[4] : undefined;
  return isString(uidPrefix) ? { namespace, name, uidPrefix } : undefined;
}

function isRetried(error: unknown): boolean {
  if (error instanceof CancelledFailure) return false;
  if (error instanceof ApplicationFailure && error.nonRetryable) return false;
  return true;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const trimmed = text.length > 400 ? `${text.slice(0, 400)}…` : text;
  return redactText(trimmed);
}

/**
 * Wraps activities so that a step still failing at its 3rd attempt is said on its Canary (and its
 * recovery after that). `bounded` names the activities whose retries end by policy: not reported.
 */
export function withRetryReports<A extends Record<string, unknown>>(
  activities: A,
  deps: RetryReportDeps,
  bounded: readonly (keyof A)[],
): A {
  return wrapActivities(activities, bounded, (fn) => reported(fn, deps));
}

function reported<F extends AsyncFunction>(fn: F, deps: RetryReportDeps): F {
  const wrapped = async (...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> => {
    const context = currentActivity();
    if (context === undefined || reporting.has(context)) return (await fn(...args)) as Awaited<ReturnType<F>>;
    reporting.add(context);
    const { attempt } = context.info;
    try {
      const result = (await fn(...args)) as Awaited<ReturnType<F>>;
      if (attempt > firstReportedAttempt) await bounded(deps, report(deps, context, args[0], { attempt }));
      return result;
    } catch (error) {
      if (isRetried(error) && isReportedAttempt(attempt)) {
        await bounded(deps, report(deps, context, args[0], { attempt, error }));
      }
      throw error;
    } finally {
      reporting.delete(context);
    }
  };
  return wrapped as unknown as F;
}

/** Waits for the report at most `waitMs`; it goes on in the background, and never throws. */
async function bounded(deps: RetryReportDeps, reportDone: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    reportDone,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deps.waitMs ?? 3_000);
    }),
  ]);
  clearTimeout(timer);
}

async function resolveCanary(
  deps: RetryReportDeps,
  context: Context,
  input: unknown,
): Promise<CanaryRef | undefined> {
  const named = canaryOfInput(input);
  if (named) return named;
  const fromId = canaryOfWorkflowId(context.info.workflowExecution?.workflowId ?? '');
  if (!fromId) return undefined;
  const object = await deps.readCanary({ namespace: fromId.namespace, name: fromId.name });
  const uid = (object as { metadata?: { uid?: unknown } } | null)?.metadata?.uid;
  return isString(uid) && uid.startsWith(fromId.uidPrefix)
    ? { namespace: fromId.namespace, name: fromId.name, uid }
    : undefined;
}

async function report(
  deps: RetryReportDeps,
  context: Context,
  input: unknown,
  outcome: { attempt: number; error?: unknown },
): Promise<void> {
  try {
    const canary = await resolveCanary(deps, context, input);
    if (!canary) return;
    const { info } = context;
    const step = stepName(info.activityType);
    const key = `retry/${hashHex(`${info.workflowExecution?.workflowId ?? ''}/${info.workflowExecution?.runId ?? ''}/${info.activityId}`)}`;
    const failing = outcome.error !== undefined;
    const message = failing
      ? `Cutover keeps retrying ${step} (${info.activityType}): attempt ${outcome.attempt} failed: ${errorText(outcome.error)}. The rollout waits and goes on once it succeeds`
      : `${step} (${info.activityType}) succeeded at attempt ${outcome.attempt}; the rollout goes on`;
    const status: CanaryStatusUpdate = {
      condition: {
        type: stalledConditionType,
        status: failing ? 'True' : 'False',
        reason: failing ? 'StepRetrying' : 'Recovered',
        message,
      },
    };
    const event = {
      type: failing ? ('Warning' as const) : ('Normal' as const),
      message,
    };
    const eventKey = `${key}/${failing ? outcome.attempt : 'recovered'}`;
    const rollout = (input as { context?: RolloutContext } | undefined)?.context;
    if (deps.stepDeps && rollout?.canary?.uid === canary.uid && Array.isArray(rollout.alerts)) {
      await reportRollout(deps.stepDeps(), {
        context: rollout,
        key: eventKey,
        status,
        events: [event],
        ...(failing && outcome.attempt === firstReportedAttempt
          ? {
              alert: { severity: 'warn' as const, message: `${canary.name}.${canary.namespace}: ${message}` },
            }
          : {}),
      });
    } else {
      await deps.reportProgress({ canary, status, events: [{ ...event, key: eventKey }] });
    }
  } catch {
    // Best effort: the API server that refuses the step may refuse this too; the next report tries again.
  }
}
