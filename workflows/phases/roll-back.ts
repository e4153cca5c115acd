// The rollback that ends a rollout: green scaled to zero, the Canary `Failed` with the reason, an
// alert, the post-rollout hooks. Runs in a non-cancellable scope when the rollout was cancelled.
import { CanaryPhase } from '../../canary/status.ts';
import { endingOptions, rollBackCanary, stepBudgetMs } from '../activities.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { enterPhase, noteMessage, rolloutContext } from '../rollout-steps.ts';
import { flipApex } from './switch.ts';

export async function rollBack(run: RolloutRun, ending: Ending): Promise<void> {
  if (!ending.rollBack) return;
  // Switch mode: production traffic goes back to blue first; blue was kept warm for this.
  if (run.state.serving === 'green') await flipApex(run, 'primary');
  const post = run.hooksOf('post-rollout');
  const events = ending.rollBack.events;
  const result = await rollBackCanary.executeWithOptions(
    endingOptions(
      stepBudgetMs([...post, ...run.hooksOf('event')]),
      `roll back: scale ${run.canary.target.name} to zero`,
    ),
    [
      {
        context: rolloutContext(run),
        key: run.nextStepKey(),
        events: events.length > 0 ? events : [],
        reason: ending.reason,
        failedChecks: run.state.analysis.failedChecks,
        postRolloutHooks: post,
      },
    ],
  );
  for (const hook of result.postRollout) run.state.hooks[hook.name] = hook;
  enterPhase(run, CanaryPhase.Failed);
  noteMessage(run, ending.reason);
}
