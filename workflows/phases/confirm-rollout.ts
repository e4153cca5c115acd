// Phase 1: the confirm-rollout gate. Every `confirm-rollout` hook must say yes (or someone promotes
// by hand) before anything is scaled; until then the Canary is `Waiting` and the hooks are asked
// again every interval.
import { CanaryPhase } from '../../canary/status.ts';
import { localStepOptions, runHooks, stepBudgetMs } from '../activities.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { pause, report, rolloutContext } from '../rollout-steps.ts';

export async function confirmRollout(run: RolloutRun): Promise<Ending | undefined> {
  const hooks = run.hooksOf('confirm-rollout');
  for (;;) {
    const interrupted = run.interruption();
    if (interrupted) return interrupted;
    if (hooks.length === 0) return undefined;
    if (run.takePending()?.action === 'promote') return undefined;
    const gate = await runHooks.executeWithOptions(
      localStepOptions(stepBudgetMs(hooks), 'confirm-rollout hooks'),
      [{ context: rolloutContext(run), key: run.nextStepKey(), hooks }],
    );
    for (const result of gate.results) run.state.hooks[result.name] = result;
    if (!gate.failed) return undefined;
    if (!run.state.announced.confirmRollout) {
      const text = `Halt ${run.dotted} advancement waiting for approval ${gate.failed.name}`;
      await report(run, {
        phase: CanaryPhase.Waiting,
        events: [{ type: 'Normal', message: text }],
        alert: { severity: 'info', message: text },
      });
      run.state.announced.confirmRollout = true;
    }
    await pause(run, `confirm-rollout approval (${gate.failed.name})`, run.canary.analysis.intervalMs);
  }
}
