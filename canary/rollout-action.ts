// Cutover's RolloutAction (cutover.dev/v1alpha1): one request by a person to steer a Canary's rollout,
// admitted by the ValidatingAdmissionPolicy cutover-rollout-actions only with the identity the
// Kubernetes API server authenticated (deploy/base/rollout-action-admission.yaml). The CLI builds
// them, the worker reads them and writes their outcome; both use the shapes here. Pure.
//
// Validation follows the Canary's: every problem at once, each naming the field and the fix, because
// the answer is the RolloutAction's status message and a Warning event on it.
import { z } from 'zod';
import type { Actor } from './change-control.ts';
import { describeIssue, type Problem } from './problems.ts';
import { steeringActions, type SteeringActionName } from '../workflows/steering-messages.ts';

export const rolloutActionGroup = 'cutover.dev';
export const rolloutActionVersion = 'v1alpha1';
export const rolloutActionPlural = 'rolloutactions';
export const rolloutActionKind = 'RolloutAction';
export const rolloutActionApiVersion = `${rolloutActionGroup}/${rolloutActionVersion}`;

/** The admission policy (and its binding) that verifies who creates a RolloutAction. */
export const rolloutActionPolicyName = 'cutover-rollout-actions';

/** The ClusterRole that grants an action's verb on canaries.cutover.dev. */
export function roleForAction(action: SteeringActionName): 'cutover-approver' | 'cutover-operator' {
  return action === 'approve' ? 'cutover-approver' : 'cutover-operator';
}

export const rolloutActionPhases = ['Pending', 'Applied', 'Refused'] as const;
export type RolloutActionPhase = (typeof rolloutActionPhases)[number];

/** `status.reason`: why the phase is what it is, as a word a program can switch on. */
export const rolloutActionReasons = [
  'Applied',
  /** The Canary has no running rollout to steer. */
  'NoRunningRollout',
  /** The rollout refused it (an Update validator), or failed to apply it. */
  'RolloutRefused',
  'CanaryNotFound',
  /** `retry` of a revision whose latest rollout did not end rolled back or failed. */
  'NotRetryable',
  /** The admission policy is not enforced in the namespace: no identity can be trusted. */
  'AdmissionNotEnforced',
  /** The object is not a valid RolloutAction. */
  'Invalid',
  /** Temporal did not answer in time; the worker tries again. */
  'RolloutUnreachable',
] as const;
export type RolloutActionReason = (typeof rolloutActionReasons)[number];

const nonEmpty = z.string().refine((s) => s.trim() !== '', { message: 'must not be empty' });

export const rolloutActionSpecSchema = z.object({
  canary: nonEmpty,
  action: z.enum(steeringActions),
  reason: nonEmpty,
  override: z.boolean().optional(),
  user: nonEmpty,
  groups: z.array(z.string()).default([]),
});
export type RolloutActionSpec = z.infer<typeof rolloutActionSpecSchema>;

export const rolloutActionStatusSchema = z.object({
  phase: z.enum(rolloutActionPhases).optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  workflowId: z.string().optional(),
  runId: z.string().optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  observedAt: z.string().optional(),
});
export type RolloutActionStatus = z.infer<typeof rolloutActionStatusSchema>;

const rolloutActionSchema = z.object({
  metadata: z.object({
    name: z.string().min(1),
    namespace: z.string().min(1),
    uid: z.string().min(1),
    creationTimestamp: z.union([z.string(), z.date()]).optional(),
  }),
  spec: rolloutActionSpecSchema,
  status: rolloutActionStatusSchema.optional(),
});

/** A valid RolloutAction, as the worker acts on it. */
export interface RolloutAction {
  namespace: string;
  name: string;
  uid: string;
  spec: RolloutActionSpec;
  status: RolloutActionStatus;
}

export type RolloutActionValidation =
  { ok: true; action: RolloutAction } | { ok: false; problems: Problem[] };

/** Reads a RolloutAction as the API server returns it; every problem at once. */
export function validateRolloutAction(raw: unknown): RolloutActionValidation {
  const parsed = rolloutActionSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((issue) => rolloutActionProblem(issue, raw)) };
  }
  const { metadata, spec, status } = parsed.data;
  const problems: Problem[] = [];
  if (spec.override === true && spec.action !== 'approve') {
    problems.push({
      path: 'spec.override',
      message: `spec.override is set on a ${spec.action}, but only an approval can override a closed window or a freeze.`,
      fix: 'Remove spec.override, or use action approve (cutover approve CANARY --override --reason TEXT).',
    });
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(spec.canary) || spec.canary.length > 253) {
    problems.push({
      path: 'spec.canary',
      message: `spec.canary is ${JSON.stringify(spec.canary)}, which is not the name of a Kubernetes object.`,
      fix: 'Write the name of a Canary in this namespace (kubectl get canaries).',
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    action: {
      namespace: metadata.namespace,
      name: metadata.name,
      uid: metadata.uid,
      spec: { ...spec, reason: spec.reason.trim() },
      status: status ?? {},
    },
  };
}

function rolloutActionProblem(issue: z.core.$ZodIssue, raw: unknown): Problem {
  const problem = describeIssue(issue, raw);
  // describeIssue speaks of Canaries; this object is a RolloutAction.
  const message = problem.message.replace(/^The Canary/, 'The RolloutAction');
  if (problem.path === 'spec.reason' || problem.path === 'spec.user') {
    return {
      ...problem,
      message,
      fix: `Set ${problem.path} (cutover fills it in: cutover ACTION CANARY --reason TEXT).`,
    };
  }
  return { ...problem, message };
}

/** `namespace/name` of the RolloutAction: the `via` of the actor it carries. */
export function rolloutActionVia(action: Pick<RolloutAction, 'namespace' | 'name'>): string {
  return `${action.namespace}/${action.name}`;
}

/**
 * Who asked, as the API server authenticated them: verified, because the admission policy admitted the
 * object only when spec.user and spec.groups were the creator's (the worker checks it is enforced).
 */
export function rolloutActionActor(action: RolloutAction): Actor {
  return {
    user: action.spec.user,
    groups: [...action.spec.groups],
    verified: true,
    via: rolloutActionVia(action),
  };
}

/** Whether the worker has written the outcome; a Pending one is still being acted on. */
export function isSettled(status: { phase?: string } | undefined): boolean {
  return status?.phase === 'Applied' || status?.phase === 'Refused';
}

export interface NewRolloutAction {
  namespace: string;
  canary: string;
  action: SteeringActionName;
  reason: string;
  override?: boolean;
  /** The creator's identity, from a SelfSubjectReview: the admission policy checks it. */
  user: string;
  groups: readonly string[];
}

/** The object the CLI creates: named `<canary>-<action>-<random>` by the API server. */
export function rolloutActionObject(input: NewRolloutAction): Record<string, unknown> {
  // generateName gets 5 random characters; an object name may have 253.
  const prefix = `${input.canary.slice(0, 200)}-${input.action}-`;
  return {
    apiVersion: rolloutActionApiVersion,
    kind: rolloutActionKind,
    metadata: { generateName: prefix, namespace: input.namespace },
    spec: {
      canary: input.canary,
      action: input.action,
      reason: input.reason,
      ...(input.override ? { override: true } : {}),
      user: input.user,
      groups: [...input.groups],
    },
  };
}

/** The outcome the worker writes to `/status`. */
export interface RolloutActionOutcome {
  phase: RolloutActionPhase;
  reason: RolloutActionReason;
  message: string;
  workflowId?: string;
  runId?: string;
  result?: Record<string, unknown>;
}

/** The merge patch of `/status` for an outcome, stamped with the time it was observed. */
export function rolloutActionStatusPatch(
  outcome: RolloutActionOutcome,
  now: Date,
): { status: RolloutActionStatus } {
  return {
    status: {
      phase: outcome.phase,
      reason: outcome.reason,
      // A status field is read by people: one message, bounded.
      message: outcome.message.length > 2048 ? `${outcome.message.slice(0, 2047)}\u2026` : outcome.message,
      ...(outcome.workflowId ? { workflowId: outcome.workflowId } : {}),
      ...(outcome.runId ? { runId: outcome.runId } : {}),
      ...(outcome.result ? { result: outcome.result } : {}),
      observedAt: now.toISOString(),
    },
  };
}
