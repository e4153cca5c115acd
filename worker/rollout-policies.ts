// Which RolloutPolicy a Canary's rollout runs under, asked when a rollout starts: the policies of the
// Canary's namespace are listed (one bounded call), the one whose selector matches the Canary's labels
// is validated against the Canary, and the answer is written where its owner looks: the policy's
// `Ready` condition (with `observedGeneration`) and, when something is wrong, a Warning event on it.
// Those writes are idempotent: a condition already saying the same is not written again, and each
// event's name comes from what it says, so resolving the same Canary twice records nothing new.
import * as k8s from '@kubernetes/client-node';
import { describeApprovers } from '../canary/change-control.ts';
import { formatDuration } from '../canary/duration.ts';
import { formatProblems } from '../canary/problems.ts';
import { hashHex } from '../canary/revision.ts';
import {
  policySelects,
  rolloutPolicyApiVersion,
  rolloutPolicyGroup,
  rolloutPolicyKind,
  rolloutPolicyPlural,
  rolloutPolicyStatusSchema,
  rolloutPolicyVersion,
  validateRolloutPolicy,
  type ResolvedRolloutPolicy,
} from '../canary/rollout-policy.ts';
import type { Condition } from '../canary/spec.ts';
import type { ValidCanary } from '../canary/validate.ts';
import { requestDeadline } from '../client/kubernetes-deadline.ts';

export type RolloutPolicyResolution =
  /** No policy selects the Canary: Flagger's promotion, as today. */
  | { kind: 'none' }
  /** `warnings` (formatted, may be empty) were also written on the policy. */
  | { kind: 'policy'; policy: ResolvedRolloutPolicy; warnings: string }
  /** The rollout must not start: `message` names the policy (or policies), the field and the fix. */
  | { kind: 'invalid'; message: string };

export interface ResolveRolloutPolicyOptions {
  /** The floor of the post-promotion interval: the worker's Canary setting (Flagger's is 10s). */
  minInterval?: string;
  /** Deadline of each API call (default 10 s). */
  timeoutMs?: number;
  /** Called when the policy's status or event could not be written; the resolution stands. */
  onReportError?: (error: unknown, policy: string) => void;
}

export const readyConditionType = 'Ready';
/** The most policies one namespace may hold: the list is one bounded call. */
export const maxPoliciesPerNamespace = 200;
export const policyEventComponent = 'cutover';

const DEFAULT_TIMEOUT_MS = 10_000;

interface StoredPolicy {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
  };
  status?: unknown;
}

/** What one policy gets written on it. */
interface PolicyReport {
  status: 'True' | 'False';
  reason: 'Resolved' | 'Invalid' | 'Conflict';
  message: string;
  /** A Warning event with this message (problems, a conflict, or warnings). */
  warning?: string;
}

export async function resolveRolloutPolicy(
  kubeconfig: k8s.KubeConfig,
  canary: { name: string; namespace: string; labels?: Readonly<Record<string, string>> },
  validCanary: Pick<ValidCanary, 'namespace' | 'analysis'>,
  options: ResolveRolloutPolicyOptions = {},
): Promise<RolloutPolicyResolution> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const custom = kubeconfig.makeApiClient(k8s.CustomObjectsApi);
  const core = kubeconfig.makeApiClient(k8s.CoreV1Api);
  const canaryName = `${canary.namespace}/${canary.name}`;
  const labels = canary.labels ?? {};

  const policies = await listPolicies(custom, canary.namespace, timeoutMs);
  if (policies === undefined) return { kind: 'none' };
  if (policies.length > maxPoliciesPerNamespace) {
    return {
      kind: 'invalid',
      message: `Namespace ${canary.namespace} holds more than ${maxPoliciesPerNamespace} RolloutPolicies, more than Cutover reads when a rollout starts. Merge policies (one selector can match many Canaries) to stay within ${maxPoliciesPerNamespace}.`,
    };
  }

  const report = async (policy: StoredPolicy, what: PolicyReport): Promise<void> => {
    try {
      await reportOnPolicy(custom, core, policy, what, timeoutMs);
    } catch (error) {
      options.onReportError?.(error, policy.metadata?.name ?? '');
    }
  };

  const selecting: StoredPolicy[] = [];
  for (const policy of policies) {
    const { selects, problems } = policySelects(policy, labels);
    if (selects) selecting.push(policy);
    else if (problems.length > 0) {
      // Its owner is told, even though this Canary may not be the one it was meant for.
      const message = `RolloutPolicy ${policyName(policy)} selects no Canary: ${formatProblems(problems)}`;
      await report(policy, { status: 'False', reason: 'Invalid', message, warning: message });
    }
  }

  if (selecting.length === 0) return { kind: 'none' };
  if (selecting.length > 1) {
    const names = selecting.map((p) => p.metadata?.name ?? '').sort();
    const message = `Canary ${canaryName} is selected by ${names.length} RolloutPolicies (${names.join(', ')}), and a Canary follows one. Change their selectors, or the Canary's labels, so that only one selects it.`;
    for (const policy of selecting) {
      await report(policy, { status: 'False', reason: 'Conflict', message, warning: message });
    }
    return { kind: 'invalid', message };
  }

  const [policy] = selecting as [StoredPolicy];
  const validation = validateRolloutPolicy(policy, validCanary, { minInterval: options.minInterval });
  const warnings = formatProblems(validation.warnings);
  if (!validation.ok) {
    const message = `RolloutPolicy ${policyName(policy)} cannot apply to Canary ${canaryName}: ${formatProblems(validation.problems)}`;
    await report(policy, { status: 'False', reason: 'Invalid', message, warning: message });
    return { kind: 'invalid', message };
  }
  const message = `Applies to Canary ${canaryName}: ${describePolicy(validation.policy)}${warnings ? ` Warnings: ${warnings}` : ''}`;
  await report(policy, {
    status: 'True',
    reason: 'Resolved',
    message,
    ...(warnings
      ? { warning: `RolloutPolicy ${policyName(policy)} on Canary ${canaryName}: ${warnings}` }
      : {}),
  });
  return { kind: 'policy', policy: validation.policy, warnings };
}

/** The policy in one sentence, for its Ready condition: what a rollout under it will do. */
export function describePolicy(policy: ResolvedRolloutPolicy): string {
  return [describeStrategy(policy), ...describeChangeControl(policy)].join(' ');
}

function describeStrategy(policy: ResolvedRolloutPolicy): string {
  if (policy.strategy === 'copy' || policy.switch === undefined) {
    return 'strategy copy (the analysed template is copied to the primary, as Flagger does).';
  }
  const { keepWarmMs, analysis } = policy.switch;
  const checks =
    analysis.metrics.length === 0
      ? 'no post-promotion checks'
      : `${analysis.metrics.length} post-promotion metric${analysis.metrics.length === 1 ? '' : 's'} every ${formatDuration(analysis.intervalMs)}, flipping back after ${analysis.threshold} failed check${analysis.threshold === 1 ? '' : 's'}`;
  return `strategy switch, blue kept warm ${formatDuration(keepWarmMs)}, ${checks}.`;
}

/** The change-control parts of a policy, a sentence each, for its Ready condition. */
function describeChangeControl(policy: ResolvedRolloutPolicy): string[] {
  const parts: string[] = [];
  const { approvals, windows, inconclusive } = policy;
  if (approvals) {
    const valid =
      approvals.validForMs === undefined ? '' : `, each valid ${formatDuration(approvals.validForMs)}`;
    parts.push(
      `Promotion needs ${approvals.required} approval${approvals.required === 1 ? '' : 's'} from ${describeApprovers(approvals)}${valid}.`,
    );
  }
  if (windows) {
    const names = (list: { name: string }[]) => list.map((w) => w.name).join(', ');
    const allow = windows.allow.length > 0 ? `allowed in ${names(windows.allow)}` : 'allowed any time';
    const deny = windows.deny.length > 0 ? `, never in ${names(windows.deny)}` : '';
    parts.push(`Changes ${allow}${deny} (${windows.timeZone}).`);
  }
  if (inconclusive && inconclusive.action !== 'fail') {
    const after =
      inconclusive.action === 'pause' ? `, pausing after ${inconclusive.pauseAfter} in a row` : '';
    parts.push(`Inconclusive checks are skipped${after}.`);
  }
  return parts;
}

async function listPolicies(
  custom: k8s.CustomObjectsApi,
  namespace: string,
  timeoutMs: number,
): Promise<StoredPolicy[] | undefined> {
  try {
    const list = (await custom.listNamespacedCustomObject(
      {
        group: rolloutPolicyGroup,
        version: rolloutPolicyVersion,
        namespace,
        plural: rolloutPolicyPlural,
        // One more than allowed, to tell "exactly the limit" from "too many".
        limit: maxPoliciesPerNamespace + 1,
      },
      requestDeadline(timeoutMs),
    )) as { items?: StoredPolicy[] };
    return list.items ?? [];
  } catch (error) {
    // The CRD is not installed (a cluster with Flagger's CRDs only): no policy can select anything.
    if (error instanceof k8s.ApiException && error.code === 404) return undefined;
    throw new Error(`Could not list the RolloutPolicies in namespace ${namespace}: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/** The status patch that brings the policy's Ready condition to `what`, or undefined when it says so already. */
export function readyStatusPatch(
  current: unknown,
  generation: number | undefined,
  what: Pick<PolicyReport, 'status' | 'reason' | 'message'>,
  now: string,
): Record<string, unknown> | undefined {
  const parsed = rolloutPolicyStatusSchema.safeParse(current ?? {});
  const conditions = parsed.success ? (parsed.data.conditions ?? []) : [];
  const before = conditions.find((c) => c.type === readyConditionType);
  const observed = parsed.success ? parsed.data.observedGeneration : undefined;
  if (
    before?.status === what.status &&
    before.reason === what.reason &&
    before.message === what.message &&
    observed === generation &&
    (before as { observedGeneration?: unknown }).observedGeneration === generation
  ) {
    return undefined;
  }
  const ready: Condition & { observedGeneration?: number } = {
    type: readyConditionType,
    status: what.status,
    reason: what.reason,
    message: what.message,
    lastTransitionTime: before?.status === what.status ? (before.lastTransitionTime ?? now) : now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: [...conditions.filter((c) => c.type !== readyConditionType), ready],
  };
}

/** The Event name for one message on one policy: `<policy>.<16 hex digits>`, like kubectl's recorder makes. */
export function policyEventName(policy: { name: string; uid: string }, key: string): string {
  return `${policy.name.slice(0, 253 - 17)}.${hashHex(`${policy.uid}\n${key}`)}`;
}

async function reportOnPolicy(
  custom: k8s.CustomObjectsApi,
  core: k8s.CoreV1Api,
  policy: StoredPolicy,
  what: PolicyReport,
  timeoutMs: number,
): Promise<void> {
  const name = policy.metadata?.name ?? '';
  const namespace = policy.metadata?.namespace ?? '';
  const uid = policy.metadata?.uid ?? '';
  const generation = policy.metadata?.generation;
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const patch = readyStatusPatch(policy.status, generation, what, now);
  if (patch !== undefined) {
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: rolloutPolicyGroup,
        version: rolloutPolicyVersion,
        namespace,
        plural: rolloutPolicyPlural,
        name,
        body: { status: patch },
        fieldManager: policyEventComponent,
      },
      requestDeadline(timeoutMs, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
    );
  }
  if (what.warning === undefined) return;
  const at = new Date();
  const body: k8s.CoreV1Event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: policyEventName({ name, uid }, `${what.reason}/${generation ?? 0}/${hashHex(what.warning)}`),
      namespace,
    },
    involvedObject: { apiVersion: rolloutPolicyApiVersion, kind: rolloutPolicyKind, name, namespace, uid },
    reason: what.reason,
    message: what.warning,
    type: 'Warning',
    source: { component: policyEventComponent },
    reportingComponent: policyEventComponent,
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
  };
  try {
    await core.createNamespacedEvent({ namespace, body }, requestDeadline(timeoutMs));
  } catch (error) {
    // The same message on the same generation was recorded already (a second resolution).
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  }
}

function policyName(policy: StoredPolicy): string {
  return `${policy.metadata?.namespace ?? ''}/${policy.metadata?.name ?? ''}`;
}

function describeError(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    let body: unknown = error.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // Not JSON: the status code says enough.
      }
    }
    const message =
      body !== null && typeof body === 'object' && 'message' in body && typeof body.message === 'string'
        ? body.message
        : '';
    return `the API server answered ${error.code}${message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}
