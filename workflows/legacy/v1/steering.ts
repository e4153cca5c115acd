// FROZEN (see ../rollout-v1.ts): waiting, and acting on what was asked meanwhile (a promote, an abort,
// a newer revision).
import { condition } from '@temporalio/workflow';
import type { ManualAction } from '../../messages.ts';
import { RolloutEnded, rollBack } from './endings.ts';
import type { LegacyRun } from './run.ts';

/**
 * A durable timer that a steering signal or a newer revision cuts short. Returns true when woken
 * by a message rather than by the timer.
 */
export async function pause(
  run: LegacyRun,
  what: string,
  ms: number,
  wakeOnPromote = true,
): Promise<boolean> {
  run.wait = { what, until: new Date(new Date().getTime() + ms).toISOString() };
  const woken = (): boolean =>
    run.superseded !== undefined ||
    run.pending?.action === 'abort' ||
    (wakeOnPromote && run.pending !== undefined);
  try {
    return await condition(woken, ms);
  } finally {
    run.wait = undefined;
  }
}

/** Stops for a newer revision (no side effects: the newer rollout takes over the green version). */
export function handOverIfSuperseded(run: LegacyRun): void {
  if (run.superseded) {
    throw new RolloutEnded(
      'superseded',
      `superseded by revision ${run.superseded.revision} (${run.superseded.workflowId})`,
    );
  }
}

/**
 * Acts on a pending abort (rolls back) and returns a pending promote for the caller to honour. With
 * `keepPromote`, a promote stays pending for a later step that can act on it.
 */
export async function steer(run: LegacyRun, keepPromote = false): Promise<ManualAction | undefined> {
  handOverIfSuperseded(run);
  const action = run.pending;
  if (!action || (keepPromote && action.action === 'promote')) return undefined;
  run.pending = undefined;
  if (action.action === 'abort') {
    await rollBack(run, [
      {
        type: 'Warning',
        message: `Rolling back ${run.canary.name}.${run.ns} aborted by ${action.by}: ${action.reason}`,
      },
    ]);
  }
  return action;
}
