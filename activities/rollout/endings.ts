// The two ways a rollout ends on the cluster, each one activity: a rollback (green scaled to zero,
// the Canary Failed, an error alert, the post-rollout hooks) and the end of a promotion (green
// scaled to zero, the Canary Succeeded with the promoted revision, an alert, the post-rollout hooks).
// Safe to run twice: scaling is a patch of one field, events have stable keys, hooks carry
// idempotency keys (they and alerts are at least once).
import type { ResolvedWebhook } from '../../canary/validate.ts';
import { CanaryPhase } from '../../canary/status.ts';
import type { HookStatus } from '../../workflows/messages.ts';
import type { RolloutContext, RolloutStepDeps } from './context.ts';
import { runHooksInOrder } from './hooks.ts';
import { reportRollout, type RolloutEvent } from './report.ts';

export interface EndRolloutInput {
  context: RolloutContext;
  key: string;
  postRolloutHooks: ResolvedWebhook[];
}

export interface RollBackInput extends EndRolloutInput {
  /** The events that say why, not written yet (empty when the analysis tick already wrote them). */
  events: RolloutEvent[];
  reason: string;
  failedChecks: number;
}

export interface EndRolloutResult {
  postRollout: HookStatus[];
  canaryFound: boolean;
}

export async function rollBackCanary(deps: RolloutStepDeps, input: RollBackInput): Promise<EndRolloutResult> {
  const { context, key } = input;
  const { namespace, target } = context.canary;
  const reason = input.reason;
  if (input.events.length > 0)
    await reportRollout(deps, { context, key: `${key}/why`, events: input.events });
  await deps.scaleDeployment({ namespace, name: target, replicas: 0 });
  const failed = { ...context, phase: CanaryPhase.Failed };
  const written = await reportRollout(deps, {
    context: failed,
    key: `${key}/failed`,
    status: { phase: CanaryPhase.Failed, failedChecks: input.failedChecks },
    events: [{ type: 'Warning', message: `Canary failed! Scaling down ${target}.${namespace}` }],
    alert: { severity: 'error', message: `Canary ${context.canary.name}.${namespace} failed: ${reason}` },
  });
  const post = await runHooksInOrder(deps, failed, input.postRolloutHooks, `${key}/post`);
  return { postRollout: post.results, canaryFound: written.found };
}

export async function completePromotion(
  deps: RolloutStepDeps,
  input: EndRolloutInput,
): Promise<EndRolloutResult> {
  const { context, key } = input;
  const { namespace, target } = context.canary;
  await reportRollout(deps, { context, key: `${key}/finalising`, status: { phase: CanaryPhase.Finalising } });
  await deps.scaleDeployment({ namespace, name: target, replicas: 0 });
  const text = `Promotion completed! Scaling down ${target}.${namespace}`;
  const succeeded = { ...context, phase: CanaryPhase.Succeeded };
  const written = await reportRollout(deps, {
    context: succeeded,
    key: `${key}/succeeded`,
    status: { phase: CanaryPhase.Succeeded, lastPromotedSpec: context.revision },
    events: [{ type: 'Normal', message: text }],
    alert: { severity: 'info', message: text },
  });
  const post = await runHooksInOrder(deps, succeeded, input.postRolloutHooks, `${key}/post`);
  return { postRollout: post.results, canaryFound: written.found };
}
