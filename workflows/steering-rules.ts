// When a steering Update applies, in words the caller reads: each function returns why a request is
// refused now, or undefined when it is accepted. Pure (the Updates' validators call these), with unit
// tests in test/unit/steering-rules.test.ts.
import {
  approvalRefusal,
  describeApprovers,
  mayApprove,
  tallyApprovals,
  type ApprovalRule,
} from '../canary/change-control.ts';
import type { RolloutState } from './rollout-state.ts';
import type { ActionRequest, SteeringActionName } from './steering-messages.ts';

/** What the rules read of a rollout. */
export interface SteeringView {
  state: Pick<RolloutState, 'stage' | 'hold' | 'approvals' | 'pending' | 'outcome'>;
  strategy: 'copy' | 'switch';
  approvalRule?: ApprovalRule;
  nowMs: number;
}

export function steeringRefusal(
  view: SteeringView,
  action: Exclude<SteeringActionName, 'retry'>,
  request: ActionRequest,
): string | undefined {
  const { state } = view;
  if (request.reason.trim() === '') return `a reason is required: say why (--reason "...")`;
  if (state.stage === 'ended' || state.outcome !== undefined) {
    return `the rollout has ended${state.outcome ? ` (${state.outcome})` : ''}; nothing is left to ${action}`;
  }
  switch (action) {
    case 'promote':
      return promoteRefusal(view);
    case 'abort':
      if (state.pending?.action === 'abort') return `an abort by ${state.pending.by} is already under way`;
      return undefined;
    case 'approve':
      return approveRefusal(view, request);
    case 'pause':
      if (state.stage === 'promoting' || state.stage === 'keep-warm') {
        return 'the promotion has begun: there is no analysis left to pause (abort, or rollback in switch mode)';
      }
      if (state.hold?.kind === 'paused' || state.hold?.kind === 'inconclusive') {
        return `the analysis is already paused (${state.hold.message})`;
      }
      return undefined;
    case 'resume':
      if (state.hold?.kind === 'paused' || state.hold?.kind === 'inconclusive') return undefined;
      if (state.hold?.kind === 'window') {
        return `the rollout is not paused but held by ${state.hold.message}; resume does not open a deploy window: an approver may override it (approve --override)`;
      }
      return 'the rollout is not paused';
    case 'rollback':
      if (view.strategy !== 'switch') {
        return 'rollback flips the apex back to blue, which only a RolloutPolicy with strategy: switch has; use abort';
      }
      return undefined;
  }
}

function promoteRefusal(view: SteeringView): string | undefined {
  const { state } = view;
  if (state.stage === 'promoting' || state.stage === 'keep-warm') return 'the rollout is already promoting';
  if (state.pending?.action === 'abort') return `an abort by ${state.pending.by} is already under way`;
  if (state.hold?.kind === 'window') {
    return `${state.hold.message}; an approver may override it (approve --override --reason "...")`;
  }
  const rule = view.approvalRule;
  if (rule) {
    const tally = tallyApprovals(rule, state.approvals, view.nowMs);
    if (!tally.satisfied) {
      const have = tally.approvedBy.length > 0 ? ` (${tally.approvedBy.join(', ')})` : '';
      return `promotion needs ${rule.required} approvals and has ${tally.approvedBy.length}${have}; may approve: ${describeApprovers(rule)}`;
    }
  }
  return undefined;
}

function approveRefusal(view: SteeringView, request: ActionRequest): string | undefined {
  const { state } = view;
  if (state.stage === 'promoting' || state.stage === 'keep-warm') return 'the rollout is already promoting';
  const rule = view.approvalRule;
  if (request.override) {
    if (state.hold?.kind !== 'window') {
      return 'nothing to override: no deploy window or freeze holds this rollout now';
    }
    if (!request.actor.verified) {
      return 'an override must come through a RolloutAction, so that the Kubernetes API server verifies who overrides';
    }
    if (rule && !mayApprove(rule, request.actor)) {
      return `${request.actor.user} is not an approver of this rollout; may override: ${describeApprovers(rule)}`;
    }
    return undefined;
  }
  if (!rule) return "this rollout's policy asks for no approvals; promote ends the analysis early";
  return approvalRefusal(rule, state.approvals, request.actor, view.nowMs);
}
