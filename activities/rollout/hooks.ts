// Calling a Canary's webhooks for a rollout step: Flagger's payload, one idempotency key per call
// that stays the same when the step is retried, and the result as a status the workflow keeps.
import type { ResolvedWebhook } from '../../canary/validate.ts';
import { eventWebhookPayload } from '../../canary/webhook-payload.ts';
import type { HookStatus } from '../../workflows/messages.ts';
import type { RolloutContext, RolloutStepDeps } from './context.ts';

function payload(context: RolloutContext, hook: ResolvedWebhook) {
  return {
    name: context.canary.name,
    namespace: context.canary.namespace,
    phase: context.phase,
    checksum: context.revision,
    metadata: hook.metadata,
  };
}

/** Calls one hook; a failure is a result, not an exception. */
export async function callHook(
  deps: RolloutStepDeps,
  context: RolloutContext,
  hook: ResolvedWebhook,
  key: string,
): Promise<HookStatus> {
  const result = await deps.callWebhook({
    url: hook.url,
    timeoutMs: hook.timeoutMs,
    retries: hook.retries,
    disableTLS: hook.disableTLS,
    payload: payload(context, hook),
    idempotencyKey: `${key}/${hook.name}`,
  });
  return {
    name: hook.name,
    type: hook.type,
    ok: result.ok,
    ...(result.status !== undefined ? { status: result.status } : {}),
    message: result.ok ? `HTTP ${result.status}` : (result.error ?? `HTTP ${result.status}`),
    at: new Date().toISOString(),
  };
}

/** Runs hooks in order and stops at the first that fails; returns every result. */
export async function runHooksInOrder(
  deps: RolloutStepDeps,
  context: RolloutContext,
  hooks: ResolvedWebhook[],
  key: string,
): Promise<{ results: HookStatus[]; failed?: HookStatus }> {
  const results: HookStatus[] = [];
  for (const hook of hooks) {
    const result = await callHook(deps, context, hook, key);
    results.push(result);
    if (!result.ok) {
      if (result.status === undefined) await reportUnreachable(deps, context, hook, result);
      return { results, failed: result };
    }
  }
  return { results };
}

/** What a hook that cannot be reached does to the rollout, in the words of its type. */
const unreachableMeans: Readonly<Record<string, string>> = {
  'confirm-rollout': 'the rollout waits, and the hook is asked again every interval',
  'confirm-promotion': 'the promotion waits, and the hook is asked again every interval',
  'confirm-traffic-increase': 'the rollout waits, and the hook is asked again every interval',
  'pre-rollout': 'it counts as a failed check',
  rollout: 'it counts as a failed check',
  rollback: 'no rollback is asked for',
  'post-rollout': 'the rollout has ended; it is not called again',
};

/**
 * A hook with no answer at all (refused, timed out, no such host: an endpoint down, not a "no") is
 * said on the Canary with its error, once per rollout and hook, so a gate held by a dead endpoint does
 * not read like a gate held by a person. Best effort: never a reason for the step to fail.
 */
async function reportUnreachable(
  deps: RolloutStepDeps,
  context: RolloutContext,
  hook: ResolvedWebhook,
  result: HookStatus,
): Promise<void> {
  const means = unreachableMeans[hook.type] ?? 'its answer counts as a no';
  try {
    await deps.reportProgress({
      canary: context.canary,
      events: [
        {
          key: `hook-unreachable/${context.revision}/${hook.name}`,
          type: 'Warning',
          message: `Webhook ${hook.name} (${hook.type}) cannot be reached: ${result.message}. Until it answers, ${means}; check its url (spec.analysis.webhooks[${hook.name}].url) and that its endpoint runs`,
        },
      ],
    });
  } catch {
    // the API server may be away too; the next failing call tries again
  }
}

/** POSTs each event to the `event` hooks, in order. Their answers do not matter (Flagger's rule). */
export async function sendEventHooks(
  deps: RolloutStepDeps,
  context: RolloutContext,
  events: { type: 'Normal' | 'Warning'; message: string }[],
  key: string,
): Promise<void> {
  for (const [index, event] of events.entries()) {
    for (const hook of context.eventHooks) {
      await deps.callWebhook({
        url: hook.url,
        timeoutMs: hook.timeoutMs,
        retries: hook.retries,
        disableTLS: hook.disableTLS,
        payload: eventWebhookPayload({
          ...payload(context, hook),
          eventMessage: event.message,
          eventType: event.type,
          at: Date.now(),
        }),
        idempotencyKey: `${key}/event-${index}/${hook.name}`,
      });
    }
  }
}
