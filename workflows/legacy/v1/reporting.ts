// FROZEN (see ../rollout-v1.ts): what the first engine tells people: the Canary's status and events
// (one activity), the event hooks, the phase search attribute and the alerts.
import { ActivityFailure, upsertSearchAttributes } from '@temporalio/workflow';
import type { CanaryPhase } from '../../../canary/status.ts';
import { eventWebhookPayload } from '../../../canary/webhook-payload.ts';
import { kubernetes, notifications, webhooks } from '../../activities.ts';
import { phaseSearchAttribute } from '../../search-attributes.ts';
import type { LegacyRun, RolloutEvent } from './run.ts';

/** Writes phase, counters and events to the Canary (one activity), and to the search attributes. */
export async function report(
  run: LegacyRun,
  events: RolloutEvent[],
  status: { lastPromotedSpec?: string } = {},
): Promise<void> {
  if (events.length > 0) run.message = events[events.length - 1]?.message ?? run.message;
  await kubernetes.reportProgress({
    canary: { ...run.ref, uid: run.input.canaryUid },
    status: {
      phase: run.phase,
      failedChecks: run.state.failedChecks,
      iterations: run.state.iteration,
      canaryWeight: 0,
      lastAppliedSpec: run.revision,
      ...status,
    },
    events: events.map((e) => ({
      ...e,
      key: `${run.info.workflowId}/${run.info.runId}/${run.eventSequence++}`,
    })),
  });
  const eventHooks = run.hooksOf('event');
  for (const event of events) {
    for (const hook of eventHooks) {
      await webhooks(hook.timeoutMs, hook.retries).callWebhook({
        url: hook.url,
        timeoutMs: hook.timeoutMs,
        retries: hook.retries,
        disableTLS: hook.disableTLS,
        payload: eventWebhookPayload({
          ...run.payload(hook),
          eventMessage: event.message,
          eventType: event.type,
          at: new Date().getTime(),
        }),
      });
    }
  }
}

export async function setPhase(
  run: LegacyRun,
  next: CanaryPhase,
  events: RolloutEvent[],
  status: { lastPromotedSpec?: string } = {},
): Promise<void> {
  if (next !== run.phase) {
    run.phase = next;
    upsertSearchAttributes([{ key: phaseSearchAttribute, value: run.phase }]);
  }
  await report(run, events, status);
}

export async function alert(
  run: LegacyRun,
  severity: 'info' | 'warn' | 'error',
  text: string,
): Promise<void> {
  if (run.analysis.alerts.length === 0) return;
  try {
    await notifications.sendAlerts({
      canary: { ...run.ref, target: run.target },
      alerts: run.analysis.alerts,
      severity,
      message: text,
      phase: run.phase,
      revision: run.revision,
    });
  } catch (error) {
    // Best effort: a chat outage is logged in the history, never a reason to stop a rollout.
    if (!(error instanceof ActivityFailure)) throw error;
  }
}
