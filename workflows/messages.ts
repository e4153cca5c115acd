// The rollout's messages and its input and result types, defined once and shared by the workflow, the
// client and the tests. Fields are only ever added, so running rollouts keep decoding them.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CanaryPhase } from '../canary/status.ts';
import type { ValidCanary } from '../canary/validate.ts';
import type { NoDataPolicy } from '../analysis/metric-check.ts';
import type { IterationOutcome } from '../analysis/iteration.ts';
import type { ResolvedRolloutPolicy } from '../canary/rollout-policy.ts';
import type { Actor, Approval, ChangeWindows } from '../canary/change-control.ts';
import type { ApprovalsStatus, HoldStatus } from './steering-messages.ts';

/**
 * The Canary as a rollout reads it: the validated spec without the stored object (no managedFields,
 * no annotations), so the workflow input holds only what the workflow uses.
 */
export type RolloutCanary = Omit<ValidCanary, 'object'>;

/** The validated Canary as a workflow input: `object` dropped. */
export function rolloutCanary(canary: ValidCanary | RolloutCanary): RolloutCanary {
  const { object: _object, ...rest } = canary as ValidCanary;
  return rest;
}

/** Who steers a rollout by hand, and why: kept in the history, the status query and the Canary's events. */
export interface SteeringRequest {
  by: string;
  reason: string;
}

export interface ManualAction extends SteeringRequest {
  action: 'promote' | 'abort' | 'rollback' | 'approve' | 'pause' | 'resume';
  /** ISO time the workflow received it. */
  at: string;
  /** Who, as the API server authenticated them; unset for a signal (then `by` is as typed). */
  actor?: Actor;
  /** `approve` only: it overrode a closed deploy window or a freeze. */
  override?: boolean;
}

/** Approve a waiting gate, or end the analysis early and promote. */
export const promoteSignal = defineSignal<[SteeringRequest]>('promote');
/** Roll back now. */
export const abortSignal = defineSignal<[SteeringRequest]>('abort');
/** Switch mode: flip the apex back to blue now, during the keep-warm window, and fail the rollout. */
export const rollbackSignal = defineSignal<[SteeringRequest]>('rollback');
/** Sent by the rollout of a newer revision: stop at the next safe point and hand the canary over. */
export const supersedeSignal = defineSignal<[{ revision: string; workflowId: string }]>('supersede');

export interface MetricStatus {
  name: string;
  value?: number;
  thresholdRange: { min?: number; max?: number };
  passed: boolean;
  message: string;
  at: string;
}

export interface HookStatus {
  name: string;
  type: string;
  ok: boolean;
  status?: number;
  message: string;
  at: string;
}

export interface WaitStatus {
  /** What the rollout waits for: "next iteration", "confirm-rollout approval", "canary readiness"… */
  what: string;
  /** ISO time the wait ends (a durable timer), when it has one. */
  until?: string;
}

export type RolloutOutcome = 'promoted' | 'rolled-back' | 'superseded' | 'failed';

/** One analysis tick: what every hook and metric said, and what the analysis made of it. */
export interface TickReport {
  at: string;
  hooks: HookStatus[];
  metrics: MetricStatus[];
  outcome?: IterationOutcome;
  /** `advance`, `halt`, `rollback`, `promote`, or why the tick stopped early. */
  decision: string;
}

/** The image of the target's first container, before (the primary's) and after (the target's). */
export interface RolloutImages {
  from?: string;
  to?: string;
}

export interface RolloutStatus {
  canary: { name: string; namespace: string; target: string };
  revision: string;
  phase: CanaryPhase;
  /** Good iterations so far, of `iterations`. */
  iteration: number;
  iterations: number;
  failedChecks: number;
  threshold: number;
  metrics: Record<string, MetricStatus>;
  hooks: Record<string, HookStatus>;
  wait?: WaitStatus;
  manualActions: ManualAction[];
  startedAt: string;
  outcome?: RolloutOutcome;
  /** The last thing that happened, in the words of the Canary's events. */
  message: string;
  /** The last analysis tick (engine v2). */
  lastTick?: TickReport;
  images?: RolloutImages;
  /** Switch mode: which pods the apex selects now. */
  serving?: 'primary' | 'green';
  /** Switch mode: the keep-warm window's end and its post-promotion checks. */
  keepWarm?: { until: string; checks: number; failedChecks: number; threshold: number };
  /** The RolloutPolicy in force, and its strategy. */
  policy?: string;
  strategy?: 'copy' | 'switch';
  /** Why the rollout holds, when it does: paused, inconclusive, a deploy window or freeze, approvals. */
  hold?: HoldStatus;
  /** The approvals, when the policy requires them. */
  approvals?: ApprovalsStatus;
  /** The policy's deploy windows, when it has any. */
  windows?: ChangeWindows;
}

export const statusQuery = defineQuery<RolloutStatus>('status');

/** Knobs that are inputs so tests can run whole rollouts in seconds; defaults suit production. */
export interface RolloutOptions {
  /** How often readiness is polled while scaling (default: min(interval, 2s)). */
  readinessPollMs?: number;
  /** What "no values found" means (default `fail`, as Flagger). */
  noDataPolicy?: NoDataPolicy;
  /** Continue as new after this many analysis iterations in one run (default 500). */
  continueAsNewAfterIterations?: number;
  /** Prometheus for builtin metrics when the Canary has no `metricsServer`. */
  prometheusUrl?: string;
}

export interface RolloutInput {
  /** Rollouts started before engine v2 carried the whole ValidCanary (with `object`). */
  canary: RolloutCanary;
  /** The Canary's uid, for owner references and events. */
  canaryUid: string;
  revision: string;
  /** The workflow id of the rollout of an older revision that this one replaces. */
  supersedes?: string;
  options?: RolloutOptions;
  /** Set by continue-as-new: the analysis picks up where the previous run left it. */
  resume?: RolloutCarryOver;
  /** For the summary in Temporal UI and the image search attribute. */
  images?: RolloutImages;
  /** The RolloutPolicy that selects the Canary, resolved when the rollout started. */
  policy?: ResolvedRolloutPolicy;
}

export interface RolloutCarryOver {
  phase: CanaryPhase;
  iteration: number;
  failedChecks: number;
  metrics: Record<string, MetricStatus>;
  hooks: Record<string, HookStatus>;
  manualActions: ManualAction[];
  pending?: ManualAction;
  startedAt: string;
  eventSequence: number;
  /** Engine v2: gates that already announced they wait. */
  announced?: { confirmRollout: boolean; confirmPromotion: boolean };
  /** Change control: approvals given, a hold in force, inconclusive ticks in a row. */
  approvals?: Approval[];
  hold?: HoldStatus;
  inconclusiveStreak?: number;
}

export interface RolloutResult {
  outcome: RolloutOutcome;
  revision: string;
  reason: string;
  iteration: number;
  iterations: number;
  failedChecks: number;
  manualActions: ManualAction[];
}

export interface InitializeInput {
  canary: RolloutCanary;
  canaryUid: string;
  revision: string;
  options?: Pick<RolloutOptions, 'readinessPollMs'>;
}

export interface InitializeResult {
  outcome: 'initialized' | 'failed';
  revision: string;
  reason: string;
}
