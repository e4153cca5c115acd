// The approvals gate (a RolloutPolicy's `approvals`): promotion waits for N distinct approvers.
// While it waits the Canary is `WaitingPromotion`, its events say who has approved and who may still,
// and the analysis goes on every interval, so a failing check can still roll back. Approvals arrive
// as `approve` Updates (workflows/steering.ts), whose validator already refused the ones that do not
// count; an approval older than `validFor` stops counting.
import { tallyApprovals, describeApprovers } from '../../canary/change-control.ts';
import { CanaryPhase } from '../../canary/status.ts';
import { heldCondition } from '../held-condition.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { condition } from '@temporalio/workflow';
import { continueAsNewDue, isHeld, report } from '../rollout-steps.ts';
import { holdWhileHeld } from './hold.ts';
import { runTick } from './tick.ts';

export async function awaitApprovals(run: RolloutRun): Promise<Ending | 'continue-as-new' | undefined> {
  const rule = run.input.policy?.approvals;
  if (!rule) return undefined;
  const { state } = run;
  const intervalMs = run.canary.analysis.intervalMs;
  let nextTick = new Date().getTime() + intervalMs;
  let announced = -1;
  for (;;) {
    const interrupted = run.interruption();
    if (interrupted) return interrupted;
    const tally = tallyApprovals(rule, state.approvals, new Date().getTime());
    if (tally.satisfied) {
      const wasHeld = state.hold?.kind === 'approvals';
      if (wasHeld) state.hold = undefined;
      const text = `Promotion of ${run.dotted} approved by ${tally.approvedBy.join(', ')} (${tally.approvedBy.length} of ${rule.required})`;
      await report(run, {
        ...(wasHeld ? { status: { condition: heldCondition(undefined) } } : {}),
        events: [...state.notices.splice(0), { type: 'Normal', message: text }],
      });
      return undefined;
    }
    if (announced !== tally.approvedBy.length) {
      const have = tally.approvedBy.length > 0 ? `: ${tally.approvedBy.join(', ')}` : '';
      const message = `waiting for ${rule.required} approvals, ${tally.approvedBy.length} so far${have}; may approve: ${describeApprovers(rule)}`;
      state.hold = { kind: 'approvals', message, since: state.hold?.since ?? new Date().toISOString() };
      const text = `Halt ${run.dotted} advancement ${message}`;
      await report(run, {
        phase: CanaryPhase.WaitingPromotion,
        status: { condition: heldCondition(state.hold) },
        events: [...state.notices.splice(0), { type: 'Normal', message: text }],
        ...(announced < 0 ? { alert: { severity: 'info' as const, message: text } } : {}),
      });
      announced = tally.approvedBy.length;
    }
    // A promote is refused until the approvals are in; one that came as a signal waits here too.
    if (state.pending?.action === 'promote') run.takePending();
    if (continueAsNewDue(run)) return 'continue-as-new';
    if (isHeld(run)) {
      await holdWhileHeld(run);
      nextTick = new Date().getTime() + intervalMs;
      continue;
    }
    const given = state.approvals.length;
    const woken = await condition(
      () => state.approvals.length !== given || isHeld(run) || run.interrupting(),
      Math.max(0, nextTick - new Date().getTime()),
      { summary: `approvals (${tally.approvedBy.length} of ${rule.required})` },
    );
    if (woken || new Date().getTime() < nextTick) continue;
    if (!run.canary.skipAnalysis) {
      const ended = await runTick(run);
      if (typeof ended === 'object') return ended;
    }
    nextTick = new Date().getTime() + intervalMs;
  }
}
