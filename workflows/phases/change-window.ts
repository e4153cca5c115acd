// The change-control gate: deploy windows (the policy's) and freezes (RolloutFreeze objects), asked
// before anything is scaled and again before promotion, so a freeze applied mid-rollout takes effect
// at the next gate. While it is closed the Canary says which window or freeze holds it and when it
// opens, and the rollout waits on a durable timer until then; a change to a freeze (the worker's
// `change-windows-changed` signal), an override approval, an abort or a newer revision wake it early.
import { condition } from '@temporalio/workflow';
import { CanaryPhase } from '../../canary/status.ts';
import { checkChangeWindow } from '../activities.ts';
import { heldCondition } from '../held-condition.ts';
import type { Ending, RolloutRun } from '../rollout-state.ts';
import { flushNotices, report } from '../rollout-steps.ts';

/** Without an opening time (a freeze with no end), look again after this long even if no signal comes. */
const recheckOpenEndedMs = 60 * 60_000;

export async function changeWindowGate(
  run: RolloutRun,
  gate: 'rollout' | 'promotion',
): Promise<Ending | undefined> {
  const { state } = run;
  const holdPhase = gate === 'rollout' ? CanaryPhase.Waiting : CanaryPhase.WaitingPromotion;
  const phaseBefore = state.phase;
  for (;;) {
    const interrupted = run.interruption();
    if (interrupted) return interrupted;
    const windows = run.input.policy?.windows;
    const verdict = await checkChangeWindow({
      namespace: run.canary.namespace,
      ...(windows ? { windows } : {}),
    });
    const override = state.override;
    if (verdict.open || override) {
      state.override = undefined;
      if (state.hold?.kind === 'window') {
        state.hold = undefined;
        const text = verdict.open
          ? `Deploy window open for ${run.dotted}: the rollout goes on`
          : `Deploy window closed for ${run.dotted}, overridden by ${override?.actor.user ?? 'an approver'}: ${override?.reason ?? ''}`;
        await report(run, {
          phase: phaseBefore,
          events: [...state.notices.splice(0), { type: 'Normal', message: text }],
        });
      }
      return undefined;
    }
    if (state.hold?.kind !== 'window' || state.hold.message !== verdict.message) {
      const opensAt = verdict.opensAt ? { opensAt: verdict.opensAt } : {};
      state.hold = { kind: 'window', message: verdict.message, since: new Date().toISOString(), ...opensAt };
      const text = `Halt ${run.dotted} advancement: ${verdict.message}`;
      await report(run, {
        phase: holdPhase,
        status: { condition: heldCondition(state.hold) },
        events: [{ type: 'Normal', message: text }],
        alert: { severity: 'info', message: text },
      });
    }
    const seen = state.windowsChanged;
    const ms = verdict.opensAt
      ? Math.max(0, new Date(verdict.opensAt).getTime() - new Date().getTime())
      : recheckOpenEndedMs;
    const end = new Date().getTime() + ms;
    state.wait = { what: verdict.message, until: new Date(end).toISOString() };
    const woken = (): boolean =>
      state.windowsChanged !== seen ||
      state.override !== undefined ||
      state.superseded !== undefined ||
      state.pending?.action === 'abort' ||
      state.pending?.action === 'rollback';
    try {
      for (;;) {
        const remaining = Math.max(0, end - new Date().getTime());
        const fired = await condition(() => woken() || state.notices.length > 0, remaining, {
          summary: `deploy window: ${verdict.kind} ${verdict.name}`,
        });
        if (state.notices.length > 0 && !state.override) await flushNotices(run);
        if (!fired || woken()) break;
      }
    } finally {
      state.wait = undefined;
    }
  }
}
