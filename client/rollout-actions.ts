// Steering through the Kubernetes API: the caller's identity as the API server authenticated it (a
// SelfSubjectReview), a RolloutAction carrying it (admitted only when it matches, by the admission
// policy cutover-rollout-actions, and when RBAC grants the action's verb), and the outcome the worker
// writes to its status. Every call has a deadline; the wait for the outcome is bounded.
import * as k8s from '@kubernetes/client-node';
import {
  isSettled,
  rolloutActionGroup,
  rolloutActionObject,
  rolloutActionPlural,
  rolloutActionPolicyName,
  rolloutActionStatusSchema,
  rolloutActionVersion,
  roleForAction,
  type NewRolloutAction,
  type RolloutActionStatus,
} from '../canary/rollout-action.ts';
import type { SteeringActionName } from '../workflows/steering-messages.ts';
import { requestDeadline } from './kubernetes-deadline.ts';

/** Who the API server says the caller is. */
export interface Identity {
  username: string;
  groups: string[];
}

/** The caller's identity, from a SelfSubjectReview (authentication.k8s.io/v1; any authenticated user may ask). */
export async function selfIdentity(config: k8s.KubeConfig, timeoutMs = 10_000): Promise<Identity> {
  const api = config.makeApiClient(k8s.AuthenticationV1Api);
  const review = await api.createSelfSubjectReview(
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
    requestDeadline(timeoutMs),
  );
  const user = review.status?.userInfo;
  if (!user?.username) throw new Error('the API server answered the SelfSubjectReview without a username');
  return { username: user.username, groups: user.groups ?? [] };
}

/** Why the API server refused to create a RolloutAction, in one line. */
export interface CreateRefusal {
  kind: 'admission' | 'rbac' | 'not-served' | 'no-namespace' | 'other';
  message: string;
}

export type CreateResult = { ok: true; name: string; uid: string } | { ok: false; refusal: CreateRefusal };

/** The API server's own message of a refused call (its Status body), else the error's. */
export function apiErrorMessage(error: k8s.ApiException<unknown>): string {
  const body = error.body as { message?: unknown } | string | undefined;
  if (typeof body === 'object' && typeof body?.message === 'string') return body.message;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // not JSON
    }
    return body;
  }
  return error.message;
}

/** The refusal of a create, from the API server's answer: the rule and who may act. Pure. */
export function createRefusal(
  status: number,
  message: string,
  input: { namespace: string; canary: string; action: SteeringActionName; user: string },
): CreateRefusal {
  const policy = `ValidatingAdmissionPolicy '${rolloutActionPolicyName}'`;
  const at = message.indexOf(policy);
  if (at >= 0) {
    const denied = message.indexOf('denied request: ', at);
    const rule = denied >= 0 ? message.slice(denied + 'denied request: '.length) : message.slice(at);
    return {
      kind: 'admission',
      message: `refused by the admission policy ${rolloutActionPolicyName}: ${rule}`,
    };
  }
  if (status === 403) {
    return {
      kind: 'rbac',
      message: `${input.user} may not create RolloutActions in ${input.namespace}: ${input.action} needs ClusterRole ${roleForAction(input.action)} bound there (kubectl create rolebinding -n ${input.namespace} --clusterrole ${roleForAction(input.action)} --user ${input.user} ...)`,
    };
  }
  const namespace = /namespaces "([^"]+)" not found/.exec(message);
  if (status === 404 && namespace) {
    return {
      kind: 'no-namespace',
      message: `canary ${input.namespace}/${input.canary} not found: namespace ${namespace[1]} does not exist (kubectl get namespaces)`,
    };
  }
  if (status === 404) {
    return {
      kind: 'not-served',
      message: `this cluster does not serve ${rolloutActionPlural}.${rolloutActionGroup}: install Cutover's CRDs (deploy/crds) and the admission policy (deploy/base), or steer Temporal directly with --direct (recorded unverified)`,
    };
  }
  return { kind: 'other', message: `the API server refused the RolloutAction (HTTP ${status}): ${message}` };
}

const plural = { group: rolloutActionGroup, version: rolloutActionVersion, plural: rolloutActionPlural };

/** Creates a RolloutAction as the caller; a refusal is a value, anything else (unreachable) is thrown. */
export async function createRolloutAction(
  config: k8s.KubeConfig,
  input: NewRolloutAction,
  timeoutMs = 10_000,
): Promise<CreateResult> {
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  try {
    const created = (await api.createNamespacedCustomObject(
      { ...plural, namespace: input.namespace, body: rolloutActionObject(input) },
      requestDeadline(timeoutMs),
    )) as { metadata?: { name?: string; uid?: string } };
    return { ok: true, name: created.metadata?.name ?? '', uid: created.metadata?.uid ?? '' };
  } catch (error) {
    if (!(error instanceof k8s.ApiException)) throw error;
    return { ok: false, refusal: createRefusal(error.code, apiErrorMessage(error), input) };
  }
}

/**
 * Reads the status of a RolloutAction until the worker settled it (Applied or Refused), or `timeoutMs`
 * passed: then the last status seen (empty, or Pending with why), with `settled` false.
 */
export async function waitForOutcome(
  config: k8s.KubeConfig,
  namespace: string,
  name: string,
  options: { timeoutMs: number; pollMs?: number },
): Promise<{ settled: boolean; status: RolloutActionStatus }> {
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  const deadline = Date.now() + options.timeoutMs;
  let last: RolloutActionStatus = {};
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return { settled: false, status: last };
    const object = (await api.getNamespacedCustomObject(
      { ...plural, namespace, name },
      requestDeadline(Math.min(left, 10_000)),
    )) as { status?: unknown };
    const status = rolloutActionStatusSchema.safeParse(object.status ?? {});
    if (status.success) last = status.data;
    if (status.success && isSettled(status.data)) return { settled: true, status: status.data };
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 250, Math.max(0, left))));
  }
}
