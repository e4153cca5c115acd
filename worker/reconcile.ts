// What the revision watcher does with one Canary as it is now: say what is wrong with a Canary
// Cutover cannot run (touching nothing else), initialize a new one, or start the rollout of a new
// revision of its target, handing over from the rollout it replaces. Safe to call any number of
// times, from any number of watchers: workflow ids derived from canary and revision dedupe starts.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import type { KubernetesActivities } from '../activities/kubernetes.ts';
import { rolloutAttemptAnnotation, skipAnalysisRevisionAnnotation } from '../canary/annotations.ts';
import { primaryName } from '../canary/naming.ts';
import { otherCanaryOwner, targetTakenMessage } from '../resources/owner.ts';
import { rolloutAttemptRevision } from '../canary/promoted-revision.ts';
import type { ResolvedRolloutPolicy } from '../canary/rollout-policy.ts';
import { isRolloutInProgress, isCanaryPhase } from '../canary/status.ts';
import { formatProblems, validateCanary } from '../canary/validate.ts';
import type { ValidCanary } from '../canary/validate.ts';
import { startInitialization, startRollout } from '../client/rollouts.ts';
import { rolloutWorkflowId } from '../client/workflow-ids.ts';
import { rolloutCanary, type RolloutOptions } from '../workflows/messages.ts';

export interface ReconcileDeps {
  client: Client;
  taskQueue: string;
  kubernetes: Pick<KubernetesActivities, 'currentRevision' | 'reportInvalidCanary'> &
    Partial<Pick<KubernetesActivities, 'deploymentImage'>>;
  /** Flagger's floor is 10s; tests lower it. */
  minInterval?: string;
  rolloutOptions?: RolloutOptions;
  /** The rollout this process started last for each canary (`ns/name` → workflow id). */
  lastStarted?: Map<string, string>;
  /**
   * The metadata of `<target>-primary`, when it exists and the watch has seen it: a second Canary on a
   * target another Canary owns is refused instead of promoting the same primary.
   */
  primaryMetadata?: (namespace: string, target: string) => V1ObjectMeta | undefined;
  /** Finds the RolloutPolicy that selects a Canary; without it every Canary runs Flagger's way. */
  policies?: (
    canary: { name: string; namespace: string; labels: Record<string, string> },
    valid: ValidCanary,
  ) => Promise<PolicyResolution>;
}

export type PolicyResolution =
  { kind: 'none' } | { kind: 'policy'; policy: ResolvedRolloutPolicy } | { kind: 'invalid'; message: string };

export type ReconcileOutcome =
  | { kind: 'invalid'; message: string }
  | { kind: 'suspended' }
  | { kind: 'initializing'; workflowId: string; started: boolean; revision: string }
  | { kind: 'rollout'; workflowId: string; started: boolean; revision: string; supersedes?: string }
  | { kind: 'up-to-date'; revision: string };

interface CanaryStatusFields {
  phase?: string;
  lastAppliedSpec?: string;
  lastPromotedSpec?: string;
}

interface CanaryMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function errorMessage(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error) return String(error.message);
  return String(error);
}

export async function reconcileCanary(raw: unknown, deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const object = (raw ?? {}) as { metadata?: CanaryMeta; status?: CanaryStatusFields };
  const meta = object.metadata ?? {};
  const ref = { name: meta.name ?? '', namespace: meta.namespace ?? 'default', uid: meta.uid ?? '' };
  const validation = validateCanary(raw, { minInterval: deps.minInterval });
  if (!validation.ok) {
    const message = `Canary ${ref.namespace}/${ref.name} cannot run: ${formatProblems(validation.problems)}`;
    await deps.kubernetes.reportInvalidCanary({ canary: ref, message });
    return { kind: 'invalid', message };
  }
  const canary = validation.canary;
  if (canary.suspend) return { kind: 'suspended' };
  const owner = otherCanaryOwner(deps.primaryMetadata?.(canary.namespace, canary.target.name), ref);
  if (owner) {
    const message = targetTakenMessage(ref, canary.target.name, primaryName(canary.target.name), owner.name);
    await deps.kubernetes.reportInvalidCanary({ canary: ref, message });
    return { kind: 'invalid', message };
  }

  let revision: string;
  let image: string | undefined;
  try {
    ({ revision, image } = await deps.kubernetes.currentRevision({
      namespace: canary.namespace,
      target: canary.target.name,
    }));
  } catch (error) {
    const message = `Canary ${ref.namespace}/${ref.name} cannot run: spec.targetRef: ${errorMessage(error)}. Create the Deployment or fix spec.targetRef.name.`;
    await deps.kubernetes.reportInvalidCanary({ canary: ref, message });
    return { kind: 'invalid', message };
  }

  const status = object.status ?? {};
  const common = {
    canary,
    canaryUid: ref.uid,
    revision,
    options: deps.rolloutOptions,
    taskQueue: deps.taskQueue,
  };
  const initializing = !status.lastPromotedSpec;
  const annotations = meta.annotations ?? {};
  const attempt = annotations[rolloutAttemptAnnotation];
  const workflowId = rolloutWorkflowId(canary.namespace, canary.name, ref.uid, revision, attempt);
  // `cutover retry` asked for a fresh rollout of the revision whose rollout failed: its attempt token
  // names that revision (once this process started it, the usual check applies again).
  const retrying =
    status.phase === 'Failed' &&
    rolloutAttemptRevision(attempt) === revision &&
    deps.lastStarted?.get(`${canary.namespace}/${canary.name}`) !== workflowId;
  // The promoted revision, or one whose rollout already reported (running, or ended): nothing to start.
  // Checked here rather than left to Temporal's duplicate-id rejection, because every scale and status
  // write the rollout itself makes brings the watcher back to this canary.
  if (
    !initializing &&
    !retrying &&
    (revision === status.lastPromotedSpec || revision === status.lastAppliedSpec)
  ) {
    return { kind: 'up-to-date', revision };
  }
  // Only a Canary about to start a workflow is weighed: the watcher sees every status write.
  const tooLarge = inputTooLarge(canary);
  if (tooLarge) {
    const message = `Canary ${ref.namespace}/${ref.name} cannot run: ${tooLarge}`;
    await deps.kubernetes.reportInvalidCanary({ canary: ref, message });
    return { kind: 'invalid', message };
  }
  if (initializing) {
    const { handle, started } = await startInitialization(deps.client, common);
    return { kind: 'initializing', workflowId: handle.workflowId, started, revision };
  }

  const policy = deps.policies
    ? await deps.policies({ name: ref.name, namespace: ref.namespace, labels: meta.labels ?? {} }, canary)
    : { kind: 'none' as const };
  if (policy.kind === 'invalid') {
    // The running version stays as it is: nothing starts until the policy is fixed.
    const message = `Canary ${ref.namespace}/${ref.name} cannot roll out revision ${revision}: ${policy.message}`;
    await deps.kubernetes.reportInvalidCanary({ canary: ref, message });
    return { kind: 'invalid', message };
  }
  const supersedes = previousRollout(canary, ref.uid, status, workflowId, deps.lastStarted);
  const from = await deps.kubernetes
    .deploymentImage?.({ namespace: canary.namespace, name: primaryName(canary.target.name) })
    .catch(() => undefined);
  const images = { ...(from ? { from } : {}), ...(image ? { to: image } : {}) };
  const skipAnalysis = annotations[skipAnalysisRevisionAnnotation] === revision;
  const { handle, started } = await startRollout(deps.client, {
    ...common,
    canary: skipAnalysis ? { ...canary, skipAnalysis: true } : canary,
    supersedes,
    images,
    ...(attempt ? { attempt } : {}),
    ...(policy.kind === 'policy' ? { policy: policy.policy } : {}),
  });
  if (started) deps.lastStarted?.set(`${canary.namespace}/${canary.name}`, handle.workflowId);
  return { kind: 'rollout', workflowId: handle.workflowId, started, revision, supersedes };
}

/** The most a Canary may weigh as a rollout's input: Temporal refuses payloads of 2 MB, and every
 * step's input carries the hooks, so a large spec would slow every tick long before that. */
export const maxRolloutInputBytes = 256 * 1024;

/** Why the Canary is too large to be a rollout's input (naming its largest part), or undefined. */
export function inputTooLarge(canary: ValidCanary): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(rolloutCanary(canary)));
  if (bytes <= maxRolloutInputBytes) return undefined;
  const kib = (n: number): string => `${Math.round(n / 1024)} KiB`;
  const largest = canary.analysis.webhooks
    .map((hook) => ({ hook, size: Buffer.byteLength(JSON.stringify(hook.metadata)) }))
    .sort((a, b) => b.size - a.size)[0];
  const where =
    largest && largest.size > bytes / 2
      ? `spec.analysis.webhooks[${largest.hook.name}].metadata is ${kib(largest.size)}`
      : 'spec.analysis is the bulk of it';
  return `its spec is ${kib(bytes)} as a rollout's input, over the limit of ${kib(maxRolloutInputBytes)}: ${where}. Keep webhook metadata small (a hook can read large data from a ConfigMap of its own).`;
}

/**
 * The rollout a new one replaces: the one this process started last for the canary, else the one the
 * Canary's status says is in progress. The newer rollout signals it and waits for it to stop.
 */
function previousRollout(
  canary: ValidCanary,
  canaryUid: string,
  status: CanaryStatusFields,
  workflowId: string,
  lastStarted: Map<string, string> | undefined,
): string | undefined {
  const remembered = lastStarted?.get(`${canary.namespace}/${canary.name}`);
  if (remembered && remembered !== workflowId) return remembered;
  const phase = status.phase;
  if (status.lastAppliedSpec && isCanaryPhase(phase) && isRolloutInProgress(phase)) {
    const inProgress = rolloutWorkflowId(canary.namespace, canary.name, canaryUid, status.lastAppliedSpec);
    if (inProgress !== workflowId) return inProgress;
  }
  return undefined;
}
