// The rollout's message handlers: the status query, the steering Updates (with validators that
// refuse what does not apply now, workflows/steering-rules.ts) and the older signals. An accepted
// Update changes the run's state, owes the Canary an event (written at the next step, see
// `flushNotices`), and returns what happened to the caller.
import { setHandler } from '@temporalio/workflow';
import { describeApprovers, tallyApprovals, type Approval } from '../canary/change-control.ts';
import {
  abortSignal,
  promoteSignal,
  rollbackSignal,
  statusQuery,
  supersedeSignal,
  type ManualAction,
} from './messages.ts';
import type { RolloutRun } from './rollout-state.ts';
import { rolloutStatus } from './rollout-status.ts';
import { steeringRefusal, type SteeringView } from './steering-rules.ts';
import {
  abortUpdate,
  approveUpdate,
  changeWindowsSignal,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
  rollbackUpdate,
  type ActionRequest,
  type ActionResult,
  type SteeringActionName,
} from './steering-messages.ts';

export function registerHandlers(run: RolloutRun): void {
  setHandler(statusQuery, () => rolloutStatus(run));
  // Signals: older clients and running rollouts. Their `by` is whatever the sender typed.
  setHandler(promoteSignal, (request) => run.onPromote(request));
  setHandler(abortSignal, (request) => run.onAbort(request));
  setHandler(supersedeSignal, (request) => run.onSupersede(request));
  setHandler(rollbackSignal, (request) => run.onRollback(request));
  setHandler(changeWindowsSignal, () => {
    run.state.windowsChanged++;
  });

  const update = (action: Exclude<SteeringActionName, 'retry'>) => ({
    validator: (request: ActionRequest): void => {
      const refusal = steeringRefusal(view(run), action, request);
      if (refusal) throw new Error(refusal);
    },
  });
  setHandler(promoteUpdate, (request) => promote(run, request), update('promote'));
  setHandler(abortUpdate, (request) => abort(run, request), update('abort'));
  setHandler(approveUpdate, (request) => approve(run, request), update('approve'));
  setHandler(pauseUpdate, (request) => pause(run, request), update('pause'));
  setHandler(resumeUpdate, (request) => resume(run, request), update('resume'));
  setHandler(rollbackUpdate, (request) => rollback(run, request), update('rollback'));
}

function view(run: RolloutRun): SteeringView {
  const rule = run.input.policy?.approvals;
  return {
    state: run.state,
    strategy: run.input.policy?.strategy ?? 'copy',
    ...(rule ? { approvalRule: rule } : {}),
    nowMs: new Date().getTime(),
  };
}

function record(run: RolloutRun, action: ManualAction['action'], request: ActionRequest): ManualAction {
  const entry: ManualAction = {
    action,
    by: request.actor.user,
    reason: request.reason,
    at: new Date().toISOString(),
    actor: request.actor,
    ...(request.override ? { override: true } : {}),
  };
  run.state.manualActions.push(entry);
  return entry;
}

function result(run: RolloutRun, message: string): ActionResult {
  const rule = run.input.policy?.approvals;
  return {
    message,
    phase: run.state.phase,
    ...(rule ? { approvals: tallyApprovals(rule, run.state.approvals, new Date().getTime()) } : {}),
  };
}

/** The actor as events name them: the user, their own groups (not system:*), and whether it was verified. */
function who(request: ActionRequest): string {
  const groups = request.actor.groups.filter((g) => !g.startsWith('system:'));
  const notes = [
    ...(groups.length > 0 ? [`groups ${groups.join(', ')}`] : []),
    ...(request.actor.verified ? [] : ['unverified']),
  ];
  return `${request.actor.user}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

function promote(run: RolloutRun, request: ActionRequest): ActionResult {
  const entry = record(run, 'promote', request);
  run.state.pending = entry;
  // A promote also ends a pause: the person promoting has decided.
  if (run.state.hold?.kind === 'paused' || run.state.hold?.kind === 'inconclusive')
    run.state.hold = undefined;
  return result(run, `promotion of ${run.dotted} requested by ${who(request)}: it starts at the next step`);
}

function abort(run: RolloutRun, request: ActionRequest): ActionResult {
  run.state.pending = record(run, 'abort', request);
  return result(run, `abort of ${run.dotted} requested by ${who(request)}: it rolls back at the next step`);
}

function rollback(run: RolloutRun, request: ActionRequest): ActionResult {
  run.state.pending = record(run, 'rollback', request);
  return result(run, `rollback of ${run.dotted} to blue requested by ${who(request)}`);
}

function approve(run: RolloutRun, request: ActionRequest): ActionResult {
  record(run, 'approve', request);
  const approval: Approval = {
    actor: request.actor,
    reason: request.reason,
    at: new Date().toISOString(),
    ...(request.override ? { override: true } : {}),
  };
  if (request.override) {
    run.state.override = approval;
    const held = run.state.hold?.message ?? 'a closed deploy window';
    const text = `${held} overridden for ${run.dotted} by ${who(request)}: ${request.reason}`;
    run.state.notices.push({ type: 'Normal', message: text });
    return result(run, text);
  }
  run.state.approvals.push(approval);
  const rule = run.input.policy?.approvals;
  const tally = rule ? tallyApprovals(rule, run.state.approvals, new Date().getTime()) : undefined;
  const count = tally ? ` (${tally.approvedBy.length} of ${tally.required})` : '';
  const still = tally && !tally.satisfied && rule ? `; may still approve: ${describeApprovers(rule)}` : '';
  const text = `Promotion of ${run.dotted} approved by ${who(request)}${count}: ${request.reason}${still}`;
  run.state.notices.push({ type: 'Normal', message: text });
  return result(run, text);
}

function pause(run: RolloutRun, request: ActionRequest): ActionResult {
  record(run, 'pause', request);
  const message = `paused by ${who(request)}: ${request.reason}`;
  run.state.hold = { kind: 'paused', message, since: new Date().toISOString() };
  const text = `Analysis of ${run.dotted} ${message}`;
  run.state.notices.push({ type: 'Normal', message: text });
  return result(run, `${text}; resume to continue`);
}

function resume(run: RolloutRun, request: ActionRequest): ActionResult {
  record(run, 'resume', request);
  run.state.hold = undefined;
  run.state.inconclusiveStreak = 0;
  const text = `Analysis of ${run.dotted} resumed by ${who(request)}: ${request.reason}`;
  run.state.notices.push({ type: 'Normal', message: text });
  return result(run, `${text}; the next tick is one interval from now`);
}
