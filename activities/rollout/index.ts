// The activities of the rollout engine's steps, bound to the base activities they are made of.
import type { RolloutStepDeps } from './context.ts';
import { runAnalysisTick, type AnalysisTickInput } from './analysis-tick.ts';
import { completePromotion, rollBackCanary, type EndRolloutInput, type RollBackInput } from './endings.ts';
import { runHooks, type RunHooksInput } from './gates.ts';
import { reportRollout, type ReportRolloutInput } from './report.ts';

export type { RolloutContext } from './context.ts';
export type { AnalysisTickInput, AnalysisTickResult } from './analysis-tick.ts';
export type { EndRolloutResult, RollBackInput } from './endings.ts';
export type { RunHooksResult } from './gates.ts';
export type { ReportRolloutResult, RolloutEvent } from './report.ts';

/** `deps()` is read at call time, so wrappers the worker puts on the base activities apply here too. */
export function createRolloutStepActivities(deps: () => RolloutStepDeps) {
  return {
    runAnalysisTick: (input: AnalysisTickInput) => runAnalysisTick(deps(), input),
    runHooks: (input: RunHooksInput) => runHooks(deps(), input),
    reportRollout: (input: ReportRolloutInput) => reportRollout(deps(), input),
    rollBackCanary: (input: RollBackInput) => rollBackCanary(deps(), input),
    completePromotion: (input: EndRolloutInput) => completePromotion(deps(), input),
  };
}
