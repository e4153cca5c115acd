// The Canary's `Held` condition: why a rollout holds (paused by hand, inconclusive analysis, a deploy
// window or freeze, approvals), where `kubectl get canary -o yaml` and alerting on conditions look.
// Flagger's CRD allows only its own phases, so the phase says `Waiting` or `WaitingPromotion` and this
// condition says which hold it is. Pure: workflow code and activities write it.
import type { HoldStatus } from './steering-messages.ts';

export const heldConditionType = 'Held';

const reasons: Record<HoldStatus['kind'], string> = {
  paused: 'Paused',
  inconclusive: 'Inconclusive',
  window: 'DeployWindow',
  approvals: 'AwaitingApprovals',
};

export interface HeldCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** `Held` True with the hold's reason and message, or False once the hold is over. */
export function heldCondition(hold: Pick<HoldStatus, 'kind' | 'message'> | undefined): HeldCondition {
  if (hold)
    return { type: heldConditionType, status: 'True', reason: reasons[hold.kind], message: hold.message };
  return {
    type: heldConditionType,
    status: 'False',
    reason: 'Released',
    message: 'The rollout is not held.',
  };
}
