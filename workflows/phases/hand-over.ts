// Phase 0: a rollout that replaces an older revision's asks it to stop and waits until it has, so
// two workflows never act on one canary at once.
import { getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import { handover } from '../activities.ts';
import { supersedeSignal } from '../messages.ts';
import type { RolloutRun } from '../rollout-state.ts';

/** True when an older rollout was still running (the events then say "restarting"). */
export async function handOverFromPrevious(run: RolloutRun): Promise<boolean> {
  const previous = run.input.supersedes;
  if (!previous) return false;
  let wasRunning = true;
  try {
    await getExternalWorkflowHandle(previous).signal(supersedeSignal, {
      revision: run.revision,
      workflowId: workflowInfo().workflowId,
    });
  } catch {
    // Already closed (or never started): nothing to hand over.
    wasRunning = false;
  }
  await handover.waitForWorkflowClosed({ workflowId: previous });
  return wasRunning;
}
