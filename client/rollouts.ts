// The small library tools and tests use to start, steer and inspect rollouts.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { CanaryPhase } from '../canary/status.ts';
import type { ValidCanary } from '../canary/validate.ts';
import { abortSignal, promoteSignal, statusQuery } from '../workflows/messages.ts';
import type {
  InitializeResult,
  RolloutOptions,
  RolloutResult,
  RolloutStatus,
  SteeringRequest,
} from '../workflows/messages.ts';
import { rolloutSearchAttributes } from '../workflows/search-attributes.ts';
import type { initializeCanaryWorkflow, rolloutWorkflow } from '../workflows/index.ts';
import { initializeWorkflowId, rolloutWorkflowId } from './workflow-ids.ts';

export const defaultTaskQueue = 'cutover';

export interface StartRolloutInput {
  canary: ValidCanary;
  canaryUid: string;
  revision: string;
  supersedes?: string;
  options?: RolloutOptions;
  taskQueue?: string;
}

export interface Started<W extends typeof rolloutWorkflow | typeof initializeCanaryWorkflow> {
  handle: WorkflowHandle<W>;
  /** False when a workflow with this id already existed (a second watcher, a restart). */
  started: boolean;
}

/** Starts the rollout of one revision; a second start of the same revision is a no-op. */
export async function startRollout(
  client: Client,
  input: StartRolloutInput,
): Promise<Started<typeof rolloutWorkflow>> {
  const workflowId = rolloutWorkflowId(input.canary.namespace, input.canary.name, input.revision);
  try {
    const handle = await client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
      taskQueue: input.taskQueue ?? defaultTaskQueue,
      workflowId,
      args: [
        {
          canary: input.canary,
          canaryUid: input.canaryUid,
          revision: input.revision,
          supersedes: input.supersedes,
          options: input.options,
        },
      ],
      typedSearchAttributes: rolloutSearchAttributes(input.canary, input.revision, CanaryPhase.Progressing),
    });
    return { handle, started: true };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return { handle: client.workflow.getHandle<typeof rolloutWorkflow>(workflowId), started: false };
  }
}

export async function startInitialization(
  client: Client,
  input: Omit<StartRolloutInput, 'supersedes'>,
): Promise<Started<typeof initializeCanaryWorkflow>> {
  const workflowId = initializeWorkflowId(input.canary.namespace, input.canary.name, input.canaryUid);
  try {
    const handle = await client.workflow.start<typeof initializeCanaryWorkflow>('initializeCanaryWorkflow', {
      taskQueue: input.taskQueue ?? defaultTaskQueue,
      workflowId,
      args: [
        {
          canary: input.canary,
          canaryUid: input.canaryUid,
          revision: input.revision,
          options: input.options,
        },
      ],
      typedSearchAttributes: rolloutSearchAttributes(input.canary, input.revision, CanaryPhase.Initializing),
    });
    return { handle, started: true };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return { handle: client.workflow.getHandle<typeof initializeCanaryWorkflow>(workflowId), started: false };
  }
}

export async function rolloutStatus(client: Client, workflowId: string): Promise<RolloutStatus> {
  return client.workflow.getHandle(workflowId).query(statusQuery);
}

export async function promoteRollout(
  client: Client,
  workflowId: string,
  request: SteeringRequest,
): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(promoteSignal, request);
}

export async function abortRollout(
  client: Client,
  workflowId: string,
  request: SteeringRequest,
): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(abortSignal, request);
}

export type { InitializeResult, RolloutResult, RolloutStatus };
