// Repairs what a rollout that ended without its own result leaves behind. A rollout that is
// terminated (Temporal UI's Terminate, `temporal workflow terminate`), times out, fails on a bug,
// or was cancelled on the first engine never ran its rollback: the Canary still says Progressing
// and the green pods are up. The watcher sweeps Temporal's visibility for such endings and, when
// the Canary still shows that rollout in progress, scales green to zero and marks the Canary
// Failed with the reason, as a status condition and a Warning event. Safe to run any number of
// times from any number of workers: the event's name comes from the run, the status write is
// guarded by what the Canary says.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { KubernetesActivities } from '../activities/kubernetes.ts';
import { CanaryPhase, isCanaryPhase, isRolloutInProgress } from '../canary/status.ts';
import {
  canarySearchAttribute,
  namespaceSearchAttribute,
  revisionSearchAttribute,
} from '../workflows/search-attributes.ts';

/** Closed without the workflow's own result. */
const abandonedStatuses = ['Terminated', 'TimedOut', 'Failed', 'Canceled'] as const;

export interface RepairDeps {
  client: Client;
  /** The worker's `--watch-namespace`: only rollouts of Canaries there are looked at (a Role-only install). */
  namespace?: string;
  kubernetes: Pick<KubernetesActivities, 'readCanary' | 'reportProgress' | 'scaleDeployment'>;
}

export interface Repair {
  workflowId: string;
  canary: string;
  reason: string;
}

/** The visibility query for rollouts that closed without their own result since `since`. */
export function abandonedRolloutsQuery(since: Date, namespace?: string): string {
  const statuses = abandonedStatuses.map((s) => `'${s}'`).join(', ');
  const query = `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus IN (${statuses}) AND CloseTime > '${since.toISOString()}'`;
  return namespace
    ? `${query} AND ${namespaceSearchAttribute.name} = '${namespace.replace(/'/g, "\\'")}'`
    : query;
}

/** What the Canary's event says, in words a person reading `kubectl describe` understands. `status` is the SDK's name. */
export function abandonedRolloutMessage(canary: string, workflowId: string, status: string): string {
  const how: Record<string, string> = {
    TERMINATED: 'was terminated in Temporal',
    TIMED_OUT: 'timed out in Temporal',
    FAILED: 'failed in Temporal without finishing',
    CANCELLED: 'was cancelled in Temporal before it could roll back',
  };
  return `Rolling back ${canary}: rollout ${workflowId} ${how[status] ?? `ended as ${status}`}; green scaled down. Fix the cause, then change the target to roll out again`;
}

interface CanaryFields {
  metadata?: { uid?: string };
  spec?: { targetRef?: { name?: string } };
  status?: { phase?: string; lastAppliedSpec?: string };
}

export async function repairAbandonedRollouts(deps: RepairDeps, since: Date): Promise<Repair[]> {
  const repairs: Repair[] = [];
  for await (const info of deps.client.workflow.list({
    query: abandonedRolloutsQuery(since, deps.namespace),
  })) {
    const repair = await repairOne(deps, info);
    if (repair) repairs.push(repair);
  }
  return repairs;
}

async function repairOne(deps: RepairDeps, info: WorkflowExecutionInfo): Promise<Repair | undefined> {
  const name = info.typedSearchAttributes.get(canarySearchAttribute);
  const namespace = info.typedSearchAttributes.get(namespaceSearchAttribute);
  const revision = info.typedSearchAttributes.get(revisionSearchAttribute);
  if (!name || !namespace || !revision) return undefined;
  const canary = (await deps.kubernetes.readCanary({ namespace, name })) as CanaryFields | null;
  const uid = canary?.metadata?.uid;
  const phase = canary?.status?.phase;
  // Only the rollout the Canary still shows as under way: a later rollout, or one that reported its
  // own end, is left alone. The uid in the workflow id ties the run to this Canary, not a namesake.
  if (!canary || !uid || !info.workflowId.endsWith(`/${uid.slice(0, 8)}`)) return undefined;
  if (canary.status?.lastAppliedSpec !== revision || !isCanaryPhase(phase) || !isRolloutInProgress(phase)) {
    return undefined;
  }
  const target = canary.spec?.targetRef?.name;
  if (target) await deps.kubernetes.scaleDeployment({ namespace, name: target, replicas: 0 });
  const reason = abandonedRolloutMessage(`${name}.${namespace}`, info.workflowId, info.status.name);
  await deps.kubernetes.reportProgress({
    canary: { name, namespace, uid },
    status: { phase: CanaryPhase.Failed, message: reason },
    events: [{ key: `repair/${info.workflowId}/${info.runId}`, type: 'Warning', message: reason }],
  });
  return { workflowId: info.workflowId, canary: `${namespace}/${name}`, reason };
}

/**
 * Sweeps every `intervalMs` until stopped. The first sweep looks back `lookBackMs` (rollouts that
 * ended while no worker ran); later ones overlap the previous sweep by one interval.
 */
export function startRolloutRepair(
  deps: RepairDeps & {
    intervalMs?: number;
    lookBackMs?: number;
    onRepair?(repair: Repair): void;
    onError?(error: unknown): void;
  },
): { stop(): void } {
  const intervalMs = deps.intervalMs ?? 15_000;
  let since = new Date(Date.now() - (deps.lookBackMs ?? 24 * 3600_000));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const sweep = async (): Promise<void> => {
    const started = new Date();
    try {
      for (const repair of await repairAbandonedRollouts(deps, since)) deps.onRepair?.(repair);
      since = new Date(started.getTime() - intervalMs);
    } catch (error) {
      deps.onError?.(error);
    }
    if (!stopped) timer = setTimeout(() => void sweep(), intervalMs);
  };
  timer = setTimeout(() => void sweep(), 0);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
