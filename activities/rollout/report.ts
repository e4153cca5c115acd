// Telling people what a rollout did: the Canary's status and events, the `event` webhooks and, when
// asked, an alert. One function, used by every rollout step that reports, so the wording and the
// order (status, events, event hooks, alert) are the same everywhere.
import type { CanaryStatusUpdate } from '../canary-status.ts';
import type { AlertSeverity } from '../notifications.ts';
import type { RolloutContext, RolloutStepDeps } from './context.ts';
import { sendEventHooks } from './hooks.ts';

export interface RolloutEvent {
  type: 'Normal' | 'Warning';
  message: string;
}

export interface ReportRolloutInput {
  context: RolloutContext;
  /** The step's key: event names and webhook idempotency keys derive from it. */
  key: string;
  status?: CanaryStatusUpdate;
  events?: RolloutEvent[];
  alert?: { severity: AlertSeverity; message: string };
}

export interface ReportRolloutResult {
  /** False when the Canary is gone (deleted mid-rollout): nothing was written. */
  found: boolean;
  /** Alerts that could not be delivered (best effort, never fatal). */
  alertFailures: string[];
}

export async function reportRollout(
  deps: RolloutStepDeps,
  input: ReportRolloutInput,
): Promise<ReportRolloutResult> {
  const { context, key } = input;
  const events = input.events ?? [];
  const written = await deps.reportProgress({
    canary: context.canary,
    ...(input.status ? { status: input.status } : {}),
    events: events.map((event, index) => ({ ...event, key: `${key}/${index}` })),
  });
  if (!written.found) return { found: false, alertFailures: [] };
  await sendEventHooks(deps, context, events, key);
  const alertFailures: string[] = [];
  if (input.alert && context.alerts.length > 0) {
    try {
      const sent = await deps.sendAlerts({
        canary: {
          name: context.canary.name,
          namespace: context.canary.namespace,
          target: context.canary.target,
        },
        alerts: context.alerts,
        severity: input.alert.severity,
        message: input.alert.message,
        phase: input.status?.phase ?? context.phase,
        revision: context.revision,
      });
      alertFailures.push(...sent.failed.map((f) => `${f.alert}: ${f.error}`));
      if (sent.failed.length > 0) await reportUndelivered(deps, context, sent.failed);
    } catch (error) {
      // Best effort: a chat outage is recorded, never a reason to stop a rollout.
      alertFailures.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { found: true, alertFailures };
}

/**
 * An alert that cannot be delivered (a missing AlertProvider, a bad address) is said on the Canary,
 * once per alert and rollout: the key holds the revision, not the step, so later ticks add nothing.
 */
async function reportUndelivered(
  deps: RolloutStepDeps,
  context: RolloutContext,
  failed: { alert: string; error: string }[],
): Promise<void> {
  await deps.reportProgress({
    canary: context.canary,
    events: failed.map((f) => ({
      key: `alert-undelivered/${context.revision}/${f.alert}`,
      type: 'Warning' as const,
      message: `Alert ${f.alert} of ${context.canary.name}.${context.canary.namespace} could not be delivered: ${f.error}. Fix the AlertProvider it names (spec.analysis.alerts[${f.alert}].providerRef) or its Secret`,
    })),
  });
}
