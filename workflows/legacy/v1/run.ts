// FROZEN (see ../rollout-v1.ts): the state of one first-engine rollout and its message handlers. The
// fields are the `let`s and `const`s that the original single function kept in closures, moved here
// one for one; every step in this folder reads and writes them through the run it is given.
import { setHandler, workflowInfo } from '@temporalio/workflow';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { AnalysisState } from '../../../analysis/iteration.ts';
import { CanaryPhase } from '../../../canary/status.ts';
import type { ResolvedWebhook } from '../../../canary/validate.ts';
import { abortSignal, promoteSignal, statusQuery, supersedeSignal } from '../../messages.ts';
import type {
  HookStatus,
  ManualAction,
  MetricStatus,
  RolloutCanary,
  RolloutCarryOver,
  RolloutInput,
  RolloutOutcome,
  RolloutResult,
  RolloutStatus,
  WaitStatus,
} from '../../messages.ts';

const defaultContinueAsNewAfter = 500;

/** A Kubernetes Event on the Canary (and, through the event hooks, a webhook call). */
export type RolloutEvent = { type: 'Normal' | 'Warning'; message: string };

export class LegacyRun {
  readonly input: RolloutInput;
  readonly canary: RolloutCanary;
  readonly revision: string;
  /** The target Deployment's name. */
  readonly target: string;
  readonly ns: string;
  readonly ref: { name: string; namespace: string };
  readonly analysis: RolloutCanary['analysis'];
  /** Workflow info at the start of this run (its ids key the Canary events). */
  readonly info: WorkflowInfo;
  /** What the previous run handed over by continue-as-new; absent in a rollout's first run. */
  readonly carried: RolloutCarryOver | undefined;

  phase: CanaryPhase;
  state: AnalysisState;
  readonly metricStatus: Record<string, MetricStatus>;
  readonly hookStatus: Record<string, HookStatus>;
  readonly manualActions: ManualAction[];
  /** A promote or abort asked for and not yet acted on (an abort wins over a later promote). */
  pending: ManualAction | undefined;
  /** Set by the rollout of a newer revision: this one stops and hands over. */
  superseded: { revision: string; workflowId: string } | undefined;
  /** What the rollout is waiting for now, for the status query. */
  wait: WaitStatus | undefined;
  /** The last event's text, for the status query. */
  message: string;
  outcome: RolloutOutcome | undefined;
  /** Numbers the Canary events, so a retried status write never repeats one. */
  eventSequence: number;
  /** Analysis ticks in this run, counted towards continue-as-new. */
  iterationsThisRun: number;
  readonly startedAt: string;
  readonly continueAsNewAfter: number;

  constructor(input: RolloutInput) {
    const { canary, revision } = input;
    this.input = input;
    this.canary = canary;
    this.revision = revision;
    this.target = canary.target.name;
    this.ns = canary.namespace;
    this.ref = { name: canary.name, namespace: this.ns };
    this.analysis = canary.analysis;
    this.info = workflowInfo();
    const carried = input.resume;
    this.carried = carried;

    this.phase = carried?.phase ?? CanaryPhase.Progressing;
    this.state = {
      iteration: carried?.iteration ?? 0,
      iterations: this.analysis.iterations,
      failedChecks: carried?.failedChecks ?? 0,
      threshold: this.analysis.threshold,
    };
    this.metricStatus = carried?.metrics ?? {};
    this.hookStatus = carried?.hooks ?? {};
    this.manualActions = carried?.manualActions ?? [];
    this.pending = carried?.pending;
    this.superseded = undefined;
    this.wait = undefined;
    this.message = carried ? 'Analysis continued in a new run' : 'Rollout started';
    this.outcome = undefined;
    this.eventSequence = carried?.eventSequence ?? 0;
    this.iterationsThisRun = 0;
    this.startedAt = carried?.startedAt ?? new Date().toISOString();
    this.continueAsNewAfter = input.options?.continueAsNewAfterIterations ?? defaultContinueAsNewAfter;
  }

  /** The status query and the steering signals, in the order the first engine set them. */
  installHandlers(): void {
    setHandler(statusQuery, (): RolloutStatus => this.status());
    setHandler(promoteSignal, ({ by, reason }) => {
      const action: ManualAction = { action: 'promote', by, reason, at: new Date().toISOString() };
      this.manualActions.push(action);
      // An abort already asked for wins over a later promote.
      if (this.pending?.action !== 'abort') this.pending = action;
    });
    setHandler(abortSignal, ({ by, reason }) => {
      const action: ManualAction = { action: 'abort', by, reason, at: new Date().toISOString() };
      this.manualActions.push(action);
      this.pending = action;
    });
    setHandler(supersedeSignal, (request) => {
      this.superseded = request;
    });
  }

  status(): RolloutStatus {
    return {
      canary: { ...this.ref, target: this.target },
      revision: this.revision,
      phase: this.phase,
      iteration: this.state.iteration,
      iterations: this.state.iterations,
      failedChecks: this.state.failedChecks,
      threshold: this.state.threshold,
      metrics: this.metricStatus,
      hooks: this.hookStatus,
      wait: this.wait,
      manualActions: this.manualActions,
      startedAt: this.startedAt,
      outcome: this.outcome,
      message: this.message,
    };
  }

  hooksOf(type: ResolvedWebhook['type']): ResolvedWebhook[] {
    return this.analysis.webhooks.filter((h) => h.type === type);
  }

  /** The body every hook is called with (Flagger's CanaryWebhookPayload). */
  payload(hook: ResolvedWebhook) {
    return {
      name: this.canary.name,
      namespace: this.ns,
      phase: this.phase,
      checksum: this.revision,
      metadata: hook.metadata,
    };
  }

  /** The workflow's result; records the outcome for the status query. */
  result(which: RolloutOutcome, reason: string): RolloutResult {
    this.outcome = which;
    return {
      outcome: which,
      revision: this.revision,
      reason,
      iteration: this.state.iteration,
      iterations: this.state.iterations,
      failedChecks: this.state.failedChecks,
      manualActions: this.manualActions,
    };
  }

  /** What the next run needs to carry the analysis on after continue-as-new. */
  carryOver(): RolloutCarryOver {
    return {
      phase: this.phase,
      iteration: this.state.iteration,
      failedChecks: this.state.failedChecks,
      metrics: this.metricStatus,
      hooks: this.hookStatus,
      manualActions: this.manualActions,
      pending: this.pending,
      startedAt: this.startedAt,
      eventSequence: this.eventSequence,
    };
  }
}
