// Phase 6, switch mode (a RolloutPolicy with `strategy: switch`): the apex Service flips to the
// green pods that were analysed; blue (`-primary`) stays at full scale for the keep-warm window,
// while a post-promotion analysis watches live traffic. A failed check past its threshold,
// `cutover rollback` or an abort flips the apex back to blue at once; a newer revision flips back
// before the next rollout touches green. When the window passes, the template is copied to the
// primary, the apex flips back to it, and green scales to zero: Flagger's layout again.
import { formatDuration } from '../../canary/duration.ts';
import { primaryName } from '../../canary/naming.ts';
import { CanaryPhase } from '../../canary/status.ts';
import { switchApex } from '../activities.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { pause, report } from '../rollout-steps.ts';
import { runPostPromotionCheck } from './post-promotion-check.ts';
import { copyToPrimary } from './promote.ts';

/** Points the apex at `to`'s pods; a flip that is already in place changes nothing. */
export async function flipApex(run: RolloutRun, to: 'primary' | 'green'): Promise<void> {
  const { canary } = run;
  await switchApex.executeWithOptions(
    {
      startToCloseTimeout: '10s',
      localRetryThreshold: '10s',
      retry: { initialInterval: '200ms', maximumInterval: '5s' },
      summary: `apex → ${to}`,
    },
    [{ namespace: canary.namespace, service: canary.service.name, target: canary.target.name, to }],
  );
  run.state.serving = to;
}

export async function switchTraffic(run: RolloutRun): Promise<Ending> {
  const settings = run.input.policy?.switch;
  if (!settings)
    return {
      outcome: 'failed',
      reason: `RolloutPolicy ${run.input.policy?.name ?? ''} has no switch settings`,
    };
  const primary = `${primaryName(run.canary.target.name)}.${run.canary.namespace}`;
  const until = new Date().getTime() + settings.keepWarmMs;
  await report(run, {
    phase: CanaryPhase.Promoting,
    events: [
      {
        type: 'Normal',
        message: `Switching traffic of ${run.dotted} to the green pods of ${run.targetDotted}; blue ${primary} stays warm for ${formatDuration(settings.keepWarmMs)}`,
      },
    ],
  });
  await flipApex(run, 'green');
  run.state.stage = 'keep-warm';
  run.state.keepWarm = {
    checks: 0,
    failedChecks: 0,
    threshold: settings.analysis.threshold,
    until: new Date(until).toISOString(),
  };
  const ended = await keepWarm(run, until, settings.analysis.intervalMs);
  if (ended) return ended;
  await report(run, {
    phase: CanaryPhase.Finalising,
    events: [
      {
        type: 'Normal',
        message: `Keep-warm window of ${run.dotted} passed: green stays, ${primary} takes its template`,
      },
    ],
  });
  return copyToPrimary(run, async () => {
    await report(run, {
      events: [
        {
          type: 'Normal',
          message: `Switching traffic of ${run.dotted} back to ${primary}, now at revision ${run.revision}`,
        },
      ],
    });
    await flipApex(run, 'primary');
  });
}

/** The keep-warm window: undefined when it passed (or a promote ended it early), else how it ended. */
async function keepWarm(run: RolloutRun, until: number, intervalMs: number): Promise<Ending | undefined> {
  const { state } = run;
  let nextCheck = new Date().getTime() + intervalMs;
  for (;;) {
    const now = new Date().getTime();
    if (now >= until) return undefined;
    await pause(
      run,
      'keep-warm window: next post-promotion check',
      Math.max(0, Math.min(nextCheck, until) - now),
    );
    if (state.superseded) {
      // The newer revision's pods replace green: traffic goes back to blue before anything else.
      await flipApex(run, 'primary');
      return {
        outcome: 'superseded',
        reason: `superseded by revision ${state.superseded.revision} during the keep-warm window; traffic switched back to blue`,
      };
    }
    const action = run.takePending();
    if (action?.action === 'promote') return undefined;
    if (action) {
      const verb = action.action === 'rollback' ? 'rolled back' : 'aborted';
      return run.rollBack(
        `Rolling back ${run.dotted} ${verb} by ${action.by}: ${action.reason}; traffic switched back to blue`,
      );
    }
    if (new Date().getTime() < nextCheck) continue;
    const checkStartedAt = new Date().getTime();
    const ended = await runPostPromotionCheck(run);
    if (ended) return ended;
    nextCheck = Math.max(nextCheck + intervalMs, checkStartedAt + intervalMs);
  }
}
