// Change control as a rollout reads it: who may approve and how many must, when changes may be
// made (deploy windows and freezes), and what an inconclusive metric means. These are the resolved
// shapes (durations in ms, defaults filled in) that a RolloutPolicy yields and a rollout carries in
// its input; the approval rules here are pure and importable from workflow code.

/** Who asked, as the Kubernetes API server authenticated them. */
export interface Actor {
  /** `request.userInfo.username` of the RolloutAction that carried the request. */
  user: string;
  /** `request.userInfo.groups`. */
  groups: string[];
  /**
   * True when the identity came from an admitted RolloutAction (the ValidatingAdmissionPolicy
   * checked it against the API server's authentication). False for a signal or Update sent to
   * Temporal directly, whose `by` is whatever the caller typed.
   */
  verified: boolean;
  /** `namespace/name` of the RolloutAction, when there is one. */
  via?: string;
}

/** `spec.approvals` of a RolloutPolicy: N distinct approvers of M before promotion. */
export interface ApprovalRule {
  /** Distinct approvers needed before promotion (N). */
  required: number;
  /** Users who may approve. Empty with empty `groups`: any user allowed by RBAC. */
  users: string[];
  /** Groups whose members may approve. */
  groups: string[];
  /** How long an approval counts after it was given; unset: for the whole rollout. */
  validForMs?: number;
  /** Refuse approvals that did not come through a RolloutAction (default true). */
  requireVerified: boolean;
}

/** One recurring window: opens at each `schedule` time, stays open for `durationMs`. */
export interface DeployWindow {
  /** Named in events and refusals: `spec.windows.deny[1]` unless the policy names it. */
  name: string;
  /** A 5-field cron expression, or an RRULE (`FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=9`). */
  schedule: string;
  durationMs: number;
}

/** `spec.windows`: when changes may be made. */
export interface ChangeWindows {
  /** IANA time zone the schedules are read in (default `UTC`). */
  timeZone: string;
  /** Changes only inside one of these; empty: always allowed (unless denied). */
  allow: DeployWindow[];
  /** Never inside one of these. */
  deny: DeployWindow[];
}

/** `spec.analysis.inconclusive`: what a metric with no values or a failed query means. */
export interface InconclusivePolicy {
  /**
   * - `fail`: a failed check (Flagger's behaviour, and the default without a policy);
   * - `skip`: the tick neither counts nor fails, and the next one is an interval later;
   * - `pause`: skipped, and after `pauseAfter` inconclusive ticks in a row the analysis holds for a
   *   human decision (promote, abort, or resume).
   */
  action: 'fail' | 'skip' | 'pause';
  /** For `pause`: inconclusive ticks in a row before the hold (default 3). */
  pauseAfter: number;
}

/** What a gate found about deploy windows and freezes (the `checkChangeWindow` activity). */
export type ChangeWindowVerdict =
  | { open: true }
  | {
      open: false;
      /** `outside-allow`: no allow window is open; `deny`: a deny window is; `freeze`: a RolloutFreeze covers the namespace. */
      kind: 'outside-allow' | 'deny' | 'freeze';
      /** The window's or the freeze's name. */
      name: string;
      /** One sentence: which window or freeze, why, and when it opens. */
      message: string;
      /** ISO time the gate opens, when known; unset: when the freeze is lifted. */
      opensAt?: string;
    };

export interface ChangeWindowInput {
  namespace: string;
  /** The policy's windows, when it has any; freezes are read from the cluster either way. */
  windows?: ChangeWindows;
}

// ---- approvals (pure) ----

export interface Approval {
  actor: Actor;
  reason: string;
  /** ISO time the workflow accepted it. */
  at: string;
  /** Set when the approval also overrides a closed deploy window or a freeze. */
  override?: boolean;
}

/** Whether `actor` is one of the approvers the rule names (any user when it names none). */
export function mayApprove(rule: ApprovalRule, actor: Actor): boolean {
  if (rule.users.length === 0 && rule.groups.length === 0) return true;
  return rule.users.includes(actor.user) || actor.groups.some((g) => rule.groups.includes(g));
}

/** The rule's approvers in words: `users alice, bob; groups release-managers` (or `anyone allowed by RBAC`). */
export function describeApprovers(rule: ApprovalRule): string {
  const parts: string[] = [];
  if (rule.users.length > 0) parts.push(`users ${rule.users.join(', ')}`);
  if (rule.groups.length > 0) parts.push(`groups ${rule.groups.join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'anyone allowed by RBAC';
}

export interface ApprovalTally {
  required: number;
  /** Distinct users whose approval still counts, oldest first. */
  approvedBy: string[];
  /** Approvers named by the rule who have not approved (users; groups are listed as `group:<name>`). */
  mayStillApprove: string[];
  satisfied: boolean;
}

/** Counts the approvals that still count at `nowMs`: eligible, verified if required, distinct, not expired. */
export function tallyApprovals(
  rule: ApprovalRule,
  approvals: readonly Approval[],
  nowMs: number,
): ApprovalTally {
  const approvedBy: string[] = [];
  for (const approval of approvals) {
    if (!mayApprove(rule, approval.actor)) continue;
    if (rule.requireVerified && !approval.actor.verified) continue;
    if (rule.validForMs !== undefined && new Date(approval.at).getTime() + rule.validForMs < nowMs) continue;
    if (!approvedBy.includes(approval.actor.user)) approvedBy.push(approval.actor.user);
  }
  const mayStillApprove = [
    ...rule.users.filter((u) => !approvedBy.includes(u)),
    ...rule.groups.map((g) => `group:${g}`),
  ];
  return {
    required: rule.required,
    approvedBy,
    mayStillApprove,
    satisfied: approvedBy.length >= rule.required,
  };
}

/** Why `actor` may not approve now, or undefined when the approval counts. */
export function approvalRefusal(
  rule: ApprovalRule,
  approvals: readonly Approval[],
  actor: Actor,
  nowMs: number,
): string | undefined {
  if (rule.requireVerified && !actor.verified) {
    return `approvals must come through a RolloutAction, so that the Kubernetes API server verifies who approves (cutover approve CANARY --reason ...); ${actor.user} sent one to Temporal directly`;
  }
  if (!mayApprove(rule, actor)) {
    return `${actor.user} is not an approver of this rollout; may approve: ${describeApprovers(rule)}`;
  }
  const tally = tallyApprovals(rule, approvals, nowMs);
  if (tally.approvedBy.includes(actor.user)) {
    return `${actor.user} has already approved (${tally.approvedBy.length} of ${rule.required}); a second approval must come from someone else: ${describeApprovers(rule)}`;
  }
  return undefined;
}
