// FROZEN (see ../rollout-v1.ts): calling the Canary's webhooks, one at a time, recording each result.
import type { ResolvedWebhook } from '../../../canary/validate.ts';
import { webhooks } from '../../activities.ts';
import type { HookStatus } from '../../messages.ts';
import type { LegacyRun } from './run.ts';

/** Calls one hook and records its result; a failure is a result, not an exception. */
export async function callHook(run: LegacyRun, hook: ResolvedWebhook): Promise<HookStatus> {
  const result = await webhooks(hook.timeoutMs, hook.retries).callWebhook({
    url: hook.url,
    timeoutMs: hook.timeoutMs,
    retries: hook.retries,
    disableTLS: hook.disableTLS,
    payload: run.payload(hook),
  });
  const status: HookStatus = {
    name: hook.name,
    type: hook.type,
    ok: result.ok,
    status: result.status,
    message: result.ok ? `HTTP ${result.status}` : (result.error ?? `HTTP ${result.status}`),
    at: new Date().toISOString(),
  };
  run.hookStatus[hook.name] = status;
  return status;
}

/** Runs hooks of one type in order; returns the first that failed. */
export async function firstFailingHook(
  run: LegacyRun,
  type: ResolvedWebhook['type'],
): Promise<HookStatus | undefined> {
  for (const hook of run.hooksOf(type)) {
    const result = await callHook(run, hook);
    if (!result.ok) return result;
  }
  return undefined;
}
