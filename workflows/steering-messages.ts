// Steering a running rollout by hand, as Temporal Updates: each has a validator that refuses what
// does not apply now (the caller sees the reason), and a result that says what happened. The worker
// sends them for admitted RolloutActions (cutover.dev), whose identity the Kubernetes API server
// verified; the older signals (`promote`, `abort`, `rollback` in messages.ts) stay accepted for
// running rollouts and older clients, and are recorded as unverified.
//
// `retry` is not here: it starts a new rollout of a revision whose rollout has ended, so there is no
// running workflow to update. The worker handles it (a RolloutAction with action `retry`).
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, Approval, ApprovalTally } from '../canary/change-control.ts';
import type { CanaryPhase } from '../canary/status.ts';

/** The steering actions a RolloutAction may carry (`spec.action`), and the RBAC verb each needs. */
export const steeringActions = [
  'promote',
  'abort',
  'approve',
  'pause',
  'resume',
  'rollback',
  'retry',
] as const;
export type SteeringActionName = (typeof steeringActions)[number];

export interface ActionRequest {
  actor: Actor;
  reason: string;
  /** `approve` only: the approval also overrides a closed deploy window or a freeze. */
  override?: boolean;
}

export interface ActionResult {
  /** One sentence: what the rollout did with the request, e.g. "approval 1 of 2 recorded (alice)". */
  message: string;
  /** The Canary phase when the request was accepted. */
  phase: CanaryPhase;
  /** Where the approvals stand, when the policy requires them. */
  approvals?: ApprovalTally;
}

export const promoteUpdate = defineUpdate<ActionResult, [ActionRequest]>('promote');
export const abortUpdate = defineUpdate<ActionResult, [ActionRequest]>('abort');
export const approveUpdate = defineUpdate<ActionResult, [ActionRequest]>('approve');
export const pauseUpdate = defineUpdate<ActionResult, [ActionRequest]>('pause');
export const resumeUpdate = defineUpdate<ActionResult, [ActionRequest]>('resume');
export const rollbackUpdate = defineUpdate<ActionResult, [ActionRequest]>('rollback');

/** Sent by the worker when a RolloutFreeze that may cover the rollout's namespace changed: gates look again. */
export const changeWindowsSignal = defineSignal('change-windows-changed');

/** Why a rollout is holding, in the status query, `cutover status` and the Canary's events. */
export interface HoldStatus {
  kind: 'paused' | 'inconclusive' | 'window' | 'approvals';
  message: string;
  /** ISO time the hold began. */
  since: string;
  /** `window`: ISO time the gate opens, when known. */
  opensAt?: string;
}

/** The approvals of a rollout whose policy requires them. */
export interface ApprovalsStatus extends ApprovalTally {
  approvals: Approval[];
}
