// The one state object of a rollout, and the class that owns it: every field a phase reads or
// writes is here and documented, the message handlers change it, and continue-as-new carries it
// whole. Phases (workflows/phases/) take the run and return; they keep no state of their own.
import { workflowInfo } from '@temporalio/workflow';
import type { RolloutEvent } from '../activities/rollout/index.ts';
import type { AnalysisState } from '../analysis/iteration.ts';
import type { Approval } from '../canary/change-control.ts';
import type { PostPromotionState } from '../analysis/post-promotion.ts';
import { CanaryPhase } from '../canary/status.ts';
import type { ResolvedWebhook } from '../canary/validate.ts';
import type {
  HookStatus,
  ManualAction,
  MetricStatus,
  RolloutCanary,
  RolloutCarryOver,
  RolloutInput,
  RolloutOutcome,
  RolloutResult,
  SteeringRequest,
  TickReport,
  WaitStatus,
} from './messages.ts';
import type { HoldStatus } from './steering-messages.ts';

/** Everything a rollout knows; the `status` query returns a view of it. */
export interface RolloutState {
  /** The Canary phase Cutover last wrote (Flagger's vocabulary). */
  phase: CanaryPhase;
  /** Good iterations, failed checks and their limits (status `iterations`, `failedChecks`). */
  analysis: AnalysisState;
  /** The last verdict of each metric check. */
  metrics: Record<string, MetricStatus>;
  /** The last result of each webhook. */
  hooks: Record<string, HookStatus>;
  /** Every promote and abort received, in order, with who and why. */
  manualActions: ManualAction[];
  /** A steering request not acted on yet. An abort always wins over a promote. */
  pending?: ManualAction;
  /** Set when the rollout of a newer revision asked this one to stop. */
  superseded?: { revision: string; workflowId: string };
  /** What the rollout waits for now, if anything. */
  wait?: WaitStatus;
  /** The last thing that happened, in the words of the Canary's events. */
  message: string;
  /** Set once, when the rollout ends. */
  outcome?: RolloutOutcome;
  /** Numbers each activity that writes events, so retried writes find their events (keys are stable). */
  step: number;
  /** ISO time the rollout started (kept across continue-as-new). */
  startedAt: string;
  /** Analysis ticks run in this workflow run, for the continue-as-new limit. */
  ticksThisRun: number;
  /** Gates that already told the Canary they are waiting, so the event is written once. */
  announced: { confirmRollout: boolean; confirmPromotion: boolean };
  /** The last analysis tick: every step's result. */
  lastTick?: TickReport;
  /** Which pods the apex Service selects (switch mode); unset means the primary's, as in Flagger. */
  serving?: 'primary' | 'green';
  /** Switch mode's keep-warm window: its end (ISO time) and the post-promotion checks so far. */
  keepWarm?: PostPromotionState & { until: string };
  /** Where the story is, for the steering Updates' validators. */
  stage: 'starting' | 'analysing' | 'promoting' | 'keep-warm' | 'ended';
  /** Approvals received (a policy's `approvals`), oldest first; each also is a manual action. */
  approvals: Approval[];
  /** An override approval not yet used by a closed deploy window or freeze. */
  override?: Approval;
  /** Why the rollout holds now: paused by hand, inconclusive, a deploy window, approvals. */
  hold?: HoldStatus;
  /** Inconclusive ticks in a row (a policy's `analysis.inconclusive`). */
  inconclusiveStreak: number;
  /** Bumped by the `change-windows-changed` signal: a gate waiting for a window looks again. */
  windowsChanged: number;
  /** Events that accepted Updates owe the Canary; the next step writes them. */
  notices: RolloutEvent[];
}

/** An ending, returned (never thrown) by a phase: the story stops there and says why. */
export interface Ending {
  outcome: RolloutOutcome;
  reason: string;
  /** The rollback to run before the rollout ends: scale green down, mark the Canary failed. */
  rollBack?: { events: { type: 'Normal' | 'Warning'; message: string }[] };
}

export class RolloutRun {
  readonly input: RolloutInput;
  readonly canary: RolloutCanary;
  readonly revision: string;
  readonly state: RolloutState;
  /** True when this run continues an analysis that an earlier run began. */
  readonly resumed: boolean;

  constructor(input: RolloutInput) {
    this.input = input;
    this.canary = input.canary;
    this.revision = input.revision;
    this.resumed = input.resume !== undefined;
    this.state = initialState(input);
  }

  get ref() {
    return { name: this.canary.name, namespace: this.canary.namespace, uid: this.input.canaryUid };
  }

  /** `<name>.<namespace>`, as Flagger's events name a canary. */
  get dotted(): string {
    return `${this.canary.name}.${this.canary.namespace}`;
  }

  get targetDotted(): string {
    return `${this.canary.target.name}.${this.canary.namespace}`;
  }

  hooksOf(type: ResolvedWebhook['type']): ResolvedWebhook[] {
    return this.canary.analysis.webhooks.filter((h) => h.type === type);
  }

  /** A fresh key prefix for the events of one activity call: stable across its retries. */
  nextStepKey(): string {
    const info = workflowInfo();
    return `${info.workflowId}/${info.runId}/s${this.state.step++}`;
  }

  // --- message handlers -------------------------------------------------------------------------

  onPromote(request: SteeringRequest): void {
    const action: ManualAction = { action: 'promote', ...request, at: new Date().toISOString() };
    this.state.manualActions.push(action);
    if (this.state.pending?.action !== 'abort') this.state.pending = action;
  }

  onAbort(request: SteeringRequest): void {
    const action: ManualAction = { action: 'abort', ...request, at: new Date().toISOString() };
    this.state.manualActions.push(action);
    this.state.pending = action;
  }

  /** Switch mode: flip back to blue now. Outside the keep-warm window it is an abort. */
  onRollback(request: SteeringRequest): void {
    const action: ManualAction = { action: 'rollback', ...request, at: new Date().toISOString() };
    this.state.manualActions.push(action);
    this.state.pending = action;
  }

  onSupersede(request: { revision: string; workflowId: string }): void {
    this.state.superseded = request;
  }

  /** Takes the pending request, if any; a promote stays pending when `keepPromote` is set. */
  takePending(keepPromote = false): ManualAction | undefined {
    const action = this.state.pending;
    if (!action || (keepPromote && action.action === 'promote')) return undefined;
    this.state.pending = undefined;
    return action;
  }

  /** The ending for a newer revision or a pending abort, when there is one (checked between steps). */
  interruption(): Ending | undefined {
    const { superseded } = this.state;
    if (superseded) {
      return {
        outcome: 'superseded',
        reason: `superseded by revision ${superseded.revision} (${superseded.workflowId})`,
      };
    }
    const pending = this.state.pending?.action;
    if (pending === 'abort' || pending === 'rollback') {
      const abort = this.takePending();
      if (abort) return this.rollBack(`Rolling back ${this.dotted} aborted by ${abort.by}: ${abort.reason}`);
    }
    return undefined;
  }

  /** True when an abort, a rollback to blue or a newer revision waits to be acted on. */
  interrupting(): boolean {
    const pending = this.state.pending?.action;
    return this.state.superseded !== undefined || pending === 'abort' || pending === 'rollback';
  }

  /** An ending that rolls back, with the reason as the Warning event that says so. */
  rollBack(reason: string, outcome: RolloutOutcome = 'rolled-back'): Ending {
    return { outcome, reason, rollBack: { events: [{ type: 'Warning', message: reason }] } };
  }

  result(ending: Ending): RolloutResult {
    this.state.outcome = ending.outcome;
    this.state.stage = 'ended';
    return {
      outcome: ending.outcome,
      revision: this.revision,
      reason: ending.reason,
      iteration: this.state.analysis.iteration,
      iterations: this.state.analysis.iterations,
      failedChecks: this.state.analysis.failedChecks,
      manualActions: this.state.manualActions,
    };
  }

  /** What the next run needs to pick the analysis up where this one leaves it. */
  carryOver(): RolloutCarryOver {
    const { state } = this;
    return {
      phase: state.phase,
      iteration: state.analysis.iteration,
      failedChecks: state.analysis.failedChecks,
      metrics: state.metrics,
      hooks: state.hooks,
      manualActions: state.manualActions,
      ...(state.pending ? { pending: state.pending } : {}),
      startedAt: state.startedAt,
      eventSequence: state.step,
      announced: state.announced,
      ...(state.approvals.length > 0 ? { approvals: state.approvals } : {}),
      ...(state.hold ? { hold: state.hold } : {}),
      ...(state.inconclusiveStreak > 0 ? { inconclusiveStreak: state.inconclusiveStreak } : {}),
    };
  }
}

/** A new rollout's state, or the state an earlier run carried over (either engine's shape). */
function initialState(input: RolloutInput): RolloutState {
  const carried = input.resume;
  const { analysis } = input.canary;
  return {
    phase: carried?.phase ?? CanaryPhase.Progressing,
    analysis: {
      iteration: carried?.iteration ?? 0,
      iterations: analysis.iterations,
      failedChecks: carried?.failedChecks ?? 0,
      threshold: analysis.threshold,
    },
    metrics: carried?.metrics ?? {},
    hooks: carried?.hooks ?? {},
    manualActions: carried?.manualActions ?? [],
    ...(carried?.pending ? { pending: carried.pending } : {}),
    message: carried ? 'Analysis continued in a new run' : 'Rollout started',
    step: carried?.eventSequence ?? 0,
    startedAt: carried?.startedAt ?? new Date().toISOString(),
    ticksThisRun: 0,
    announced: carried?.announced ?? { confirmRollout: false, confirmPromotion: false },
    stage: carried ? 'analysing' : 'starting',
    approvals: carried?.approvals ?? [],
    ...(carried?.hold ? { hold: carried.hold } : {}),
    inconclusiveStreak: carried?.inconclusiveStreak ?? 0,
    windowsChanged: 0,
    notices: [],
  };
}
