// The Canary's status vocabulary, exactly as Flagger writes it, so that `kubectl get canaries`,
// dashboards and scripts that wait for `Succeeded` keep working. Pure: the caller supplies the time.
import type { Condition } from './spec.ts';

/** Flagger's phases. A `const` object rather than a TS `enum`: erasable syntax, plain strings in histories. */
export const CanaryPhase = {
  Initializing: 'Initializing',
  Initialized: 'Initialized',
  Waiting: 'Waiting',
  Progressing: 'Progressing',
  WaitingPromotion: 'WaitingPromotion',
  Promoting: 'Promoting',
  Finalising: 'Finalising',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Terminating: 'Terminating',
  Terminated: 'Terminated',
} as const;
export type CanaryPhase = (typeof CanaryPhase)[keyof typeof CanaryPhase];

const phases: ReadonlySet<string> = new Set(Object.values(CanaryPhase));

export function isCanaryPhase(value: unknown): value is CanaryPhase {
  return typeof value === 'string' && phases.has(value);
}

/** Phases in which a rollout is under way: a new revision restarts it rather than starting one. */
export function isRolloutInProgress(phase: CanaryPhase): boolean {
  return (
    phase === CanaryPhase.Waiting ||
    phase === CanaryPhase.Progressing ||
    phase === CanaryPhase.WaitingPromotion ||
    phase === CanaryPhase.Promoting ||
    phase === CanaryPhase.Finalising
  );
}

export const promotedConditionType = 'Promoted';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** Flagger's rule: True once initialized or promoted, False when failed, Unknown while anything is under way. */
export function promotedStatus(phase: CanaryPhase): ConditionStatus {
  switch (phase) {
    case CanaryPhase.Initialized:
    case CanaryPhase.Succeeded:
      return 'True';
    case CanaryPhase.Failed:
      return 'False';
    default:
      return 'Unknown';
  }
}

// Flagger's condition messages (with its Deployment target), which users see in `kubectl describe`.
// Flagger writes no message for Terminating/Terminated; Cutover says what is happening.
const promotedMessages: Readonly<Record<CanaryPhase, string>> = {
  Initializing: 'New Deployment detected, starting initialization.',
  Initialized: 'Deployment initialization completed.',
  Waiting: 'Waiting for approval.',
  Progressing: 'New revision detected, progressing canary analysis.',
  WaitingPromotion: 'Waiting for approval.',
  Promoting: 'Canary analysis completed, starting primary rolling update.',
  Finalising: 'Canary analysis completed, routing all traffic to primary.',
  Succeeded: 'Canary analysis completed successfully, promotion finished.',
  Failed: 'Canary analysis failed, Deployment scaled to zero.',
  Terminating: 'Canary is being deleted.',
  Terminated: 'Canary deleted, generated objects released.',
};

export interface PromotedConditionInput {
  phase: CanaryPhase;
  /** RFC 3339 time of this status write (workflow time, not the wall clock). */
  now: string;
  /** Overrides the phase's standard message, e.g. with the failure reason. */
  message?: string;
  /** The current conditions, so lastTransitionTime moves only when the status value changes. */
  previous?: readonly Condition[];
}

/** The single `Promoted` condition Flagger keeps on a Canary, with reason = phase. */
export function promotedCondition(input: PromotedConditionInput): Condition {
  const status = promotedStatus(input.phase);
  const before = input.previous?.find((c) => c.type === promotedConditionType);
  const transitioned = before === undefined || before.status !== status;
  return {
    type: promotedConditionType,
    status,
    reason: input.phase,
    message: input.message ?? promotedMessages[input.phase],
    lastUpdateTime: input.now,
    lastTransitionTime: transitioned ? input.now : (before.lastTransitionTime ?? input.now),
  };
}

/** `input.previous` with its Promoted condition replaced (other controllers' conditions are kept). */
export function withPromotedCondition(input: PromotedConditionInput): Condition[] {
  const others = (input.previous ?? []).filter((c) => c.type !== promotedConditionType);
  return [...others, promotedCondition(input)];
}
