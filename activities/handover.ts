// The hand-over between two rollouts of one Canary: the newer one waits until the older one has
// stopped, so two workflows never act on one canary at once.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';

export interface WaitForWorkflowClosedInput {
  workflowId: string;
  pollMs?: number;
}

export interface WaitForWorkflowClosedResult {
  /** The older rollout was still running when asked to hand over (so this one restarts its analysis). */
  wasInProgress: boolean;
  status: string;
}

export function createHandoverActivities(deps: { client: Client }) {
  async function waitForWorkflowClosed(
    input: WaitForWorkflowClosedInput,
  ): Promise<WaitForWorkflowClosedResult> {
    const handle = deps.client.workflow.getHandle(input.workflowId);
    let wasInProgress = false;
    for (;;) {
      let status: string;
      try {
        status = (await handle.describe()).status.name;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { wasInProgress, status: 'NOT_FOUND' };
        throw error;
      }
      if (status !== 'RUNNING') return { wasInProgress, status };
      wasInProgress = true;
      Context.current().heartbeat(status);
      await Context.current().sleep(input.pollMs ?? 250);
    }
  }
  return { waitForWorkflowClosed };
}
