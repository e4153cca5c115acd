// Phase 3: the pre-rollout hooks, before the first analysis tick. A failing hook counts one failed
// check and is tried again every interval, so it can reach the threshold and roll back.
import { preRolloutOutcome } from '../../analysis/iteration.ts';
import { localStepOptions, runHooks, stepBudgetMs } from '../activities.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { pause, report, rolloutContext } from '../rollout-steps.ts';

export async function announceAnalysis(run: RolloutRun): Promise<void> {
  await report(run, {
    events: [{ type: 'Normal', message: `Starting canary analysis for ${run.targetDotted}` }],
    alert: {
      severity: 'info',
      message: `New revision detected, starting canary analysis for ${run.targetDotted}`,
    },
  });
}

export async function preRollout(run: RolloutRun): Promise<Ending | undefined> {
  const hooks = run.hooksOf('pre-rollout');
  if (hooks.length === 0) return undefined;
  for (;;) {
    const interrupted = run.interruption();
    if (interrupted) return interrupted;
    if (run.takePending()?.action === 'promote') return undefined;
    const gate = await runHooks.executeWithOptions(
      localStepOptions(stepBudgetMs(hooks), 'pre-rollout hooks'),
      [{ context: rolloutContext(run), key: run.nextStepKey(), hooks }],
    );
    for (const result of gate.results) run.state.hooks[result.name] = result;
    const verdict = preRolloutOutcome(
      run.canary,
      run.state.analysis,
      gate.failed
        ? { passed: false, hook: gate.failed.name, error: gate.failed.message }
        : { passed: true, hooks: hooks.map((h) => h.name) },
    );
    run.state.analysis = verdict.state;
    const type = gate.failed ? 'Warning' : 'Normal';
    const events = verdict.events.map((message) => ({ type, message }) as const);
    if (verdict.decision === 'rollback') {
      const reason = events[events.length - 1]?.message ?? 'pre-rollout checks failed';
      return { outcome: 'rolled-back', reason, rollBack: { events } };
    }
    await report(run, { events });
    if (verdict.decision === 'proceed') return undefined;
    await pause(run, 'pre-rollout retry', run.canary.analysis.intervalMs);
  }
}
