// Finding things for the command line: Canary objects in the cluster, and a canary's rollouts in
// Temporal's visibility store by the search attributes every Cutover workflow carries.
import * as k8s from '@kubernetes/client-node';
import { WorkflowContinuedAsNewError, WorkflowFailedError } from '@temporalio/client';
import type { Client, WorkflowExecutionInfo, WorkflowExecutionStatusName } from '@temporalio/client';
import { apiGroup, canaryDefaults, canaryStatusSchema } from '../canary/spec.ts';
import type { CanaryStatus } from '../canary/spec.ts';
import {
  canarySearchAttribute,
  imageSearchAttribute,
  namespaceSearchAttribute,
  phaseSearchAttribute,
  revisionSearchAttribute,
} from '../workflows/search-attributes.ts';
import { statusQuery } from '../workflows/messages.ts';
import type { InitializeResult, ManualAction, RolloutResult, RolloutStatus } from '../workflows/messages.ts';
import type { CanaryRef } from './commands/arguments.ts';
import { CliError, ExitCode, kubernetesUnreachable, temporalUnreachable } from './commands/context.ts';
import { isDeadlineExceeded, requestDeadline } from './kubernetes-deadline.ts';

/** An API server that accepts the connection and never answers must not hang the command line. */
const kubeCallTimeoutMs = 10_000;

/** What the command line shows of a Canary object. */
export interface CanarySummary {
  namespace: string;
  name: string;
  uid?: string;
  createdAt?: string;
  target?: string;
  /** `analysis.iterations`, when the Canary sets it. */
  iterations?: number;
  threshold: number;
  status: CanaryStatus;
}

const canaryPlural = { group: apiGroup, version: 'v1beta1', plural: 'canaries' } as const;

interface RawCanary {
  metadata?: { name?: string; namespace?: string; uid?: string; creationTimestamp?: string | Date };
  spec?: {
    targetRef?: { name?: string };
    analysis?: { iterations?: unknown; threshold?: unknown };
    canaryAnalysis?: { iterations?: unknown; threshold?: unknown };
  };
  status?: unknown;
}

/** Reads what the CLI needs without validating the whole spec: a half-valid Canary is still listed. */
export function summarizeCanary(raw: RawCanary): CanarySummary {
  const analysis = raw.spec?.analysis ?? raw.spec?.canaryAnalysis;
  const status = canaryStatusSchema.safeParse(raw.status ?? {});
  const created = raw.metadata?.creationTimestamp;
  return {
    namespace: raw.metadata?.namespace ?? '',
    name: raw.metadata?.name ?? '',
    uid: raw.metadata?.uid,
    createdAt: created instanceof Date ? created.toISOString() : created,
    target: raw.spec?.targetRef?.name,
    iterations: typeof analysis?.iterations === 'number' ? analysis.iterations : undefined,
    threshold: typeof analysis?.threshold === 'number' ? analysis.threshold : canaryDefaults.threshold,
    status: status.success ? status.data : {},
  };
}

function kubeFailure(config: k8s.KubeConfig, kubeconfig: string, error: unknown): CliError {
  const server = config.getCurrentCluster()?.server ?? '(no current cluster)';
  const cause = isDeadlineExceeded(error)
    ? `no answer in ${kubeCallTimeoutMs / 1000}s`
    : error instanceof Error
      ? error.message.split('\n')[0]
      : String(error);
  return kubernetesUnreachable(server, kubeconfig, cause ?? 'no answer');
}

export function canaryNotFound(ref: CanaryRef): CliError {
  return new CliError(
    ExitCode.canaryNotFound,
    `canary ${ref.namespace}/${ref.name} not found: kubectl get canaries -n ${ref.namespace}`,
  );
}

export async function getCanary(
  config: k8s.KubeConfig,
  kubeconfig: string,
  ref: CanaryRef,
): Promise<CanarySummary> {
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  try {
    const raw = (await api.getNamespacedCustomObject(
      { ...canaryPlural, ...ref },
      requestDeadline(kubeCallTimeoutMs),
    )) as RawCanary;
    return summarizeCanary(raw);
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) throw canaryNotFound(ref);
    if (error instanceof k8s.ApiException)
      throw apiRefused(error, `read canary ${ref.namespace}/${ref.name}`);
    throw kubeFailure(config, kubeconfig, error);
  }
}

/** Every Canary in one namespace, or in the whole cluster; sorted by namespace and name. */
export async function listCanaries(
  config: k8s.KubeConfig,
  kubeconfig: string,
  namespace?: string,
): Promise<CanarySummary[]> {
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  let list: { items?: RawCanary[] };
  try {
    list = (
      namespace === undefined
        ? await api.listClusterCustomObject(canaryPlural, requestDeadline(kubeCallTimeoutMs))
        : await api.listNamespacedCustomObject(
            { ...canaryPlural, namespace },
            requestDeadline(kubeCallTimeoutMs),
          )
    ) as { items?: RawCanary[] };
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) {
      throw new CliError(
        ExitCode.canaryNotFound,
        `this cluster does not serve canaries.${apiGroup}: install Cutover's CRDs (deploy/crds/)`,
      );
    }
    if (error instanceof k8s.ApiException) throw apiRefused(error, 'list canaries');
    throw kubeFailure(config, kubeconfig, error);
  }
  return (list.items ?? [])
    .map(summarizeCanary)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

function apiRefused(error: k8s.ApiException<unknown>, what: string): CliError {
  const body = error.body as { message?: unknown } | string | undefined;
  const message =
    typeof body === 'object' && typeof body?.message === 'string' ? body.message : error.message;
  return new CliError(
    ExitCode.kubernetesUnreachable,
    `Kubernetes refused to ${what} (HTTP ${error.code}): ${message}`,
  );
}

// ---- Temporal ----

export type WorkflowKind = 'rollout' | 'initialize';

/** One run of a Cutover workflow, as visibility lists it. */
export interface WorkflowRun {
  workflowId: string;
  runId: string;
  kind: WorkflowKind;
  /** Temporal's execution status, as the SDK names it: RUNNING, COMPLETED, FAILED, TERMINATED… */
  status: WorkflowExecutionStatusName;
  startTime: Date;
  closeTime?: Date;
  namespace: string;
  name: string;
  revision?: string;
  phase?: string;
  /** The image the rollout brings (CutoverImage), when the workflow set it. */
  image?: string;
}

const workflowTypes: Record<string, WorkflowKind> = {
  rolloutWorkflow: 'rollout',
  initializeCanaryWorkflow: 'initialize',
};

function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface VisibilityFilter {
  canary?: CanaryRef;
  /** Only this Kubernetes namespace (ignored when `canary` is given). */
  namespace?: string;
  running?: boolean;
  /** Only rollouts (not initializations). */
  rolloutsOnly?: boolean;
  /** Only runs of this revision (CutoverRevision). */
  revision?: string;
  /** Only runs of one of these revisions (CutoverRevision IN (…)); at least one. */
  revisions?: readonly string[];
}

/** The visibility query for a canary's workflows; pure, so unit tests can read it. */
export function visibilityQuery(filter: VisibilityFilter): string {
  const clauses: string[] = [];
  if (filter.canary) {
    clauses.push(`${canarySearchAttribute.name} = ${quoted(filter.canary.name)}`);
    clauses.push(`${namespaceSearchAttribute.name} = ${quoted(filter.canary.namespace)}`);
  } else if (filter.namespace !== undefined) {
    clauses.push(`${namespaceSearchAttribute.name} = ${quoted(filter.namespace)}`);
  } else {
    clauses.push(`${canarySearchAttribute.name} IS NOT NULL`);
  }
  if (filter.rolloutsOnly) clauses.push(`WorkflowType = 'rolloutWorkflow'`);
  if (filter.revision !== undefined)
    clauses.push(`${revisionSearchAttribute.name} = ${quoted(filter.revision)}`);
  if (filter.revisions !== undefined && filter.revisions.length > 0)
    clauses.push(`${revisionSearchAttribute.name} IN (${filter.revisions.map(quoted).join(', ')})`);
  if (filter.running) clauses.push(`ExecutionStatus = 'Running'`);
  return clauses.join(' AND ');
}

function toRun(info: WorkflowExecutionInfo): WorkflowRun | undefined {
  const kind = workflowTypes[info.type];
  if (!kind) return undefined;
  const attributes = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    kind,
    status: info.status.name,
    startTime: info.startTime,
    closeTime: info.closeTime,
    name: attributes.get(canarySearchAttribute) ?? '',
    namespace: attributes.get(namespaceSearchAttribute) ?? '',
    revision: attributes.get(revisionSearchAttribute),
    phase: attributes.get(phaseSearchAttribute),
    image: attributes.get(imageSearchAttribute),
  };
}

const visibilityTimeoutMs = 30_000;

/** Runs matching the filter, newest first; at most `limit` of them (visibility lists newest first). */
export async function listRuns(
  client: Client,
  address: string,
  filter: VisibilityFilter,
  limit = Number.POSITIVE_INFINITY,
): Promise<WorkflowRun[]> {
  const runs: WorkflowRun[] = [];
  try {
    // A frontend that accepts and never answers is unreachable too: the whole listing has a deadline.
    await client.withDeadline(Date.now() + visibilityTimeoutMs, async () => {
      for await (const info of client.workflow.list({ query: visibilityQuery(filter) })) {
        const run = toRun(info);
        if (run) runs.push(run);
        if (runs.length >= limit) break;
      }
    });
  } catch (error) {
    throw temporalFailure(address, error);
  }
  return runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

/** The running rollout of a canary (the newest, when a newer revision is taking over). */
export async function runningRollout(
  client: Client,
  address: string,
  ref: CanaryRef,
): Promise<WorkflowRun | undefined> {
  const runs = await listRuns(client, address, { canary: ref, running: true, rolloutsOnly: true });
  return runs[0];
}

export function noRunningRollout(ref: CanaryRef): CliError {
  return new CliError(
    ExitCode.noRunningRollout,
    `no rollout of ${ref.namespace}/${ref.name} is running: cutover history ${ref.namespace}/${ref.name} lists past ones`,
  );
}

/** An error from a Temporal call: unreachable servers get exit 4; anything else is passed on. */
export function temporalFailure(address: string, error: unknown): Error {
  if (error instanceof CliError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  // gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4): the frontend is down or does not answer.
  if (code === 14 || code === 4 || /failed to connect|ECONNREFUSED|UNAVAILABLE/i.test(message)) {
    return temporalUnreachable(address, message.split('\n')[0] ?? message);
  }
  // gRPC NOT_FOUND for the namespace itself: the user's setting, not a missing rollout.
  const namespace = /^Namespace (?:not found: '([^']*)'|(\S+) is not found)/i.exec(message);
  if (namespace) {
    return new CliError(
      ExitCode.usage,
      `Temporal at ${address} has no namespace ${namespace[1] ?? namespace[2] ?? ''}: fix --temporal-namespace / TEMPORAL_NAMESPACE`,
    );
  }
  return error instanceof Error ? error : new Error(message);
}

/** The `status` query, bounded: a rollout whose worker is down must not hang the command line. */
export async function queryStatus(
  client: Client,
  workflowId: string,
  timeoutMs = 5_000,
): Promise<RolloutStatus> {
  return client.withDeadline(Date.now() + timeoutMs, () =>
    client.workflow.getHandle(workflowId).query(statusQuery),
  );
}

/** How a closed run ended, in the words of its result. */
export interface RunEnding {
  outcome: string;
  reason: string;
  manualActions: ManualAction[];
  result?: RolloutResult | InitializeResult;
}

export async function runEnding(client: Client, run: WorkflowRun): Promise<RunEnding> {
  if (run.status === 'RUNNING') {
    try {
      const status = await queryStatus(client, run.workflowId);
      return { outcome: 'running', reason: status.message, manualActions: status.manualActions };
    } catch (error) {
      return {
        outcome: 'running',
        reason: `status unavailable: ${(error as Error).message}`,
        manualActions: [],
      };
    }
  }
  const handle = client.workflow.getHandle(run.workflowId, run.runId, { followRuns: false });
  try {
    const result = (await handle.result()) as RolloutResult | InitializeResult;
    const manualActions = 'manualActions' in result ? result.manualActions : [];
    return { outcome: result.outcome, reason: result.reason, manualActions, result };
  } catch (error) {
    if (error instanceof WorkflowContinuedAsNewError) {
      return {
        outcome: 'continued',
        reason: `continued as new in run ${error.newExecutionRunId}`,
        manualActions: [],
      };
    }
    if (error instanceof WorkflowFailedError) {
      const cause = error.cause?.message ?? error.message;
      return { outcome: run.status.toLowerCase().replace(/_/g, ' '), reason: cause, manualActions: [] };
    }
    throw error;
  }
}
