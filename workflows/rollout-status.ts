// The `status` query's answer: a view of the run's state, for `cutover status`, `watch` and Temporal UI.
import { tallyApprovals } from '../canary/change-control.ts';
import type { RolloutStatus } from './messages.ts';
import type { RolloutRun } from './rollout-state.ts';

export function rolloutStatus(run: RolloutRun): RolloutStatus {
  const { state } = run;
  return {
    canary: { name: run.canary.name, namespace: run.canary.namespace, target: run.canary.target.name },
    revision: run.revision,
    phase: state.phase,
    iteration: state.analysis.iteration,
    iterations: state.analysis.iterations,
    failedChecks: state.analysis.failedChecks,
    threshold: state.analysis.threshold,
    metrics: state.metrics,
    hooks: state.hooks,
    wait: state.wait,
    manualActions: state.manualActions,
    startedAt: state.startedAt,
    outcome: state.outcome,
    message: state.message,
    ...(state.lastTick ? { lastTick: state.lastTick } : {}),
    ...(run.input.images ? { images: run.input.images } : {}),
    ...(state.serving ? { serving: state.serving } : {}),
    ...(state.keepWarm ? { keepWarm: state.keepWarm } : {}),
    ...(run.input.policy ? { strategy: run.input.policy.strategy, policy: run.input.policy.name } : {}),
    ...(state.hold ? { hold: state.hold } : {}),
    ...(run.input.policy?.windows ? { windows: run.input.policy.windows } : {}),
    ...(run.input.policy?.approvals
      ? {
          approvals: {
            ...tallyApprovals(run.input.policy.approvals, state.approvals, new Date().getTime()),
            approvals: state.approvals,
          },
        }
      : {}),
  };
}
