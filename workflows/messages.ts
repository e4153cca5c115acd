// The rollout's messages and its input and result types, defined once and shared by the workflow, the
// client and the tests. Fields are only ever added, so running rollouts keep decoding them.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CanaryPhase } from '../canary/status.ts';
import type { ValidCanary } from '../canary/validate.ts';
import type { NoDataPolicy } from '../analysis/metric-check.ts';

/** Who steers a rollout by hand, and why: kept in the history, the status query and the Canary's events. */
export interface SteeringRequest {
  by: string;
  reason: string;
}

export interface ManualAction extends SteeringRequest {
  action: 'promote' | 'abort';
  /** ISO time the workflow received it. */
  at: string;
}

/** Approve a waiting gate, or end the analysis early and promote. */
export const promoteSignal = defineSignal<[SteeringRequest]>('promote');
/** Roll back now. */
export const abortSignal = defineSignal<[SteeringRequest]>('abort');
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
  canary: ValidCanary;
  /** The Canary's uid, for owner references and events. */
  canaryUid: string;
  revision: string;
  /** The workflow id of the rollout of an older revision that this one replaces. */
  supersedes?: string;
  options?: RolloutOptions;
  /** Set by continue-as-new: the analysis picks up where the previous run left it. */
  resume?: RolloutCarryOver;
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
  canary: ValidCanary;
  canaryUid: string;
  revision: string;
  options?: Pick<RolloutOptions, 'readinessPollMs'>;
}

export interface InitializeResult {
  outcome: 'initialized' | 'failed';
  revision: string;
  reason: string;
}
