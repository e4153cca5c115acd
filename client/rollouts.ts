// The small library tools and tests use to start, steer and inspect rollouts.
import type { Client, WorkflowHandle, WorkflowStartOptions } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { CanaryPhase } from '../canary/status.ts';
import type { ValidCanary } from '../canary/validate.ts';
import type { RolloutCanary } from '../workflows/messages.ts';
import type { ResolvedRolloutPolicy } from '../canary/rollout-policy.ts';
import { abortSignal, promoteSignal, rollbackSignal, statusQuery } from '../workflows/messages.ts';
import { rolloutCanary } from '../workflows/messages.ts';
import type {
  InitializeResult,
  RolloutImages,
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
  canary: ValidCanary | RolloutCanary;
  canaryUid: string;
  revision: string;
  supersedes?: string;
  options?: RolloutOptions;
  taskQueue?: string;
  /** The image before (the primary's) and after (the target's), for Temporal UI. */
  images?: RolloutImages;
  /** `cutover.dev/rollout-attempt`, part of the workflow id. */
  attempt?: string;
  /** The RolloutPolicy that selects the Canary. */
  policy?: ResolvedRolloutPolicy;
}

/** The tag of an image reference (`ghcr.io/stefanprodan/podinfo:6.9.3` → `6.9.3`), or the reference. */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const name = image.split('@')[0] ?? image;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : name;
}

/** Temporal UI's one-line summary of a rollout: `podinfo.test 6.9.2 → 6.9.3`. */
export function rolloutSummary(
  canary: { name: string; namespace: string },
  revision: string,
  images?: RolloutImages,
): string {
  const from = imageTag(images?.from);
  const to = imageTag(images?.to);
  const change = to ? `${from ?? '?'} → ${to}` : `revision ${revision}`;
  return `${canary.name}.${canary.namespace} ${change}`;
}

export interface Started<W extends typeof rolloutWorkflow | typeof initializeCanaryWorkflow> {
  handle: WorkflowHandle<W>;
  /** False when a workflow with this id already existed (a second watcher, a restart). */
  started: boolean;
}

type CutoverWorkflow = typeof rolloutWorkflow | typeof initializeCanaryWorkflow;

/** Starts a workflow once: a second start with the same id (a restart, a second watcher) is a no-op. */
async function startOnce<W extends CutoverWorkflow>(
  client: Client,
  workflowType: string,
  workflowId: string,
  options: Omit<WorkflowStartOptions<W>, 'workflowId'>,
): Promise<Started<W>> {
  try {
    const handle = await client.workflow.start<W>(workflowType, {
      ...options,
      workflowId,
      // A revision is rolled out once per canary: a closed rollout (even a rolled-back one) is not
      // started again by a resync; a new revision of the target starts a new rollout, as in Flagger.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    } as WorkflowStartOptions<W>);
    return { handle, started: true };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return { handle: client.workflow.getHandle<W>(workflowId), started: false };
  }
}

/** Starts the rollout of one revision. */
export async function startRollout(
  client: Client,
  input: StartRolloutInput,
): Promise<Started<typeof rolloutWorkflow>> {
  const { canary, canaryUid, revision, supersedes, options, images, policy } = input;
  return startOnce<typeof rolloutWorkflow>(
    client,
    'rolloutWorkflow',
    rolloutWorkflowId(canary.namespace, canary.name, canaryUid, revision, input.attempt),
    {
      taskQueue: input.taskQueue ?? defaultTaskQueue,
      args: [
        {
          canary: rolloutCanary(canary),
          canaryUid,
          revision,
          supersedes,
          options,
          ...(images ? { images } : {}),
          ...(policy ? { policy } : {}),
        },
      ],
      typedSearchAttributes: rolloutSearchAttributes(canary, revision, CanaryPhase.Progressing, images),
      staticSummary: rolloutSummary(canary, revision, images),
      staticDetails: `Blue/green rollout of Deployment ${canary.target.name} in ${canary.namespace}, revision ${revision}${policy ? `, RolloutPolicy ${policy.name} (${policy.strategy})` : ''}`,
    },
  );
}

/** Starts the initialization of a Canary (once per Canary uid). */
export async function startInitialization(
  client: Client,
  input: Omit<StartRolloutInput, 'supersedes'>,
): Promise<Started<typeof initializeCanaryWorkflow>> {
  const { canary, canaryUid, revision, options } = input;
  return startOnce<typeof initializeCanaryWorkflow>(
    client,
    'initializeCanaryWorkflow',
    initializeWorkflowId(canary.namespace, canary.name, canaryUid),
    {
      taskQueue: input.taskQueue ?? defaultTaskQueue,
      args: [{ canary: rolloutCanary(canary), canaryUid, revision, options }],
      typedSearchAttributes: rolloutSearchAttributes(canary, revision, CanaryPhase.Initializing),
      staticSummary: `${canary.name}.${canary.namespace} initialization`,
    },
  );
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

/** Switch mode: flip the apex back to blue now, during the keep-warm window, and fail the rollout. */
export async function rollbackRollout(
  client: Client,
  workflowId: string,
  request: SteeringRequest,
): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(rollbackSignal, request);
}

export type { InitializeResult, RolloutResult, RolloutStatus };
