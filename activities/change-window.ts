// The change-control gate's one question to the cluster: may this namespace change now? Reads the
// namespace's labels and the RolloutFreezes (one bounded call each, with a deadline), keeps the valid
// freezes whose namespaceSelector selects the namespace, and evaluates them with the policy's deploy
// windows at the real clock (canary/change-windows.ts). Reads only, so it is safe to run any number of
// times; a local activity, retried by the workflow until it answers.
//
// An invalid freeze is ignored here, and its owner is told on the freeze itself (its Ready condition
// and a Warning event, written by worker/freeze-watch.ts). Why not fail safe and let it cover: the
// CRD's schema refuses nearly every invalid freeze when it is applied, so one can only be left by an
// older CRD or a bypassed schema; and a freeze that cannot be read cannot say which namespaces it
// meant, so covering would stop every rollout in the cluster, the hotfix for the incident included,
// on a typo. Ignoring it leaves the cluster as it was before the freeze, and says so where its owner
// looks.
import * as k8s from '@kubernetes/client-node';
import type { ChangeWindowInput, ChangeWindowVerdict } from '../canary/change-control.ts';
import { evaluateChangeWindows, type CoveringFreeze } from '../canary/change-windows.ts';
import {
  freezeCovers,
  rolloutFreezeGroup,
  rolloutFreezePlural,
  rolloutFreezeVersion,
  validateRolloutFreeze,
} from '../canary/rollout-freeze.ts';
import { requestDeadline } from '../client/kubernetes-deadline.ts';
import { kubernetesCall, statusCode } from './kubernetes-client.ts';

/** The most freezes a gate reads: one bounded list. More is refused in words, not truncated. */
export const maxRolloutFreezes = 500;

/** Kubernetes sets this label on every namespace; a freeze selects one namespace by name with it. */
export const namespaceNameLabel = 'kubernetes.io/metadata.name';

export interface ChangeWindowDeps {
  /** Deadline of each API call (default 5 s; the gate's local activity has 20 s). */
  timeoutMs?: number;
  /** The clock; tests pass another instant. */
  now?: () => number;
  /**
   * Called when freezes cannot be read with the worker's grants (a Role-only install, whose Role
   * cannot grant the cluster-scoped RolloutFreezes or namespaces): the gate then decides on the
   * windows alone (and the namespace's name label), and the worker says so in its log.
   */
  onUnreadable?: (message: string) => void;
}

export interface ChangeWindowActivities {
  checkChangeWindow(input: ChangeWindowInput): Promise<ChangeWindowVerdict>;
}

export function createChangeWindowActivities(
  kubeconfig: k8s.KubeConfig,
  deps: ChangeWindowDeps = {},
): ChangeWindowActivities {
  const core = kubeconfig.makeApiClient(k8s.CoreV1Api);
  const custom = kubeconfig.makeApiClient(k8s.CustomObjectsApi);
  const timeoutMs = deps.timeoutMs ?? 5_000;
  const now = deps.now ?? Date.now;
  // Said once per process: every gate would otherwise repeat it.
  const said = new Set<string>();
  const unreadable = (message: string): void => {
    if (said.has(message)) return;
    said.add(message);
    deps.onUnreadable?.(message);
  };

  const namespaceLabels = async (namespace: string): Promise<Record<string, string>> => {
    const known = { [namespaceNameLabel]: namespace };
    try {
      const ns = await core.readNamespace({ name: namespace }, requestDeadline(timeoutMs));
      return { ...known, ...(ns.metadata?.labels ?? {}) };
    } catch (error) {
      if (statusCode(error) !== 403) return rethrow(`read Namespace ${namespace}`, error);
      unreadable(
        `the worker may not read Namespace ${namespace}, so only RolloutFreezes that select it by its name label (${namespaceNameLabel}) or select every namespace apply; grant get on namespaces to the worker`,
      );
      return known;
    }
  };

  const listFreezes = async (): Promise<unknown[]> => {
    try {
      const list = (await custom.listClusterCustomObject(
        {
          group: rolloutFreezeGroup,
          version: rolloutFreezeVersion,
          plural: rolloutFreezePlural,
          // One more than allowed, to tell "exactly the limit" from "too many".
          limit: maxRolloutFreezes + 1,
        },
        requestDeadline(timeoutMs),
      )) as { items?: unknown[] };
      return list.items ?? [];
    } catch (error) {
      const code = statusCode(error);
      // The CRD is not installed: there can be no freeze.
      if (code === 404) return [];
      if (code === 403) {
        unreadable(
          'the worker may not list RolloutFreezes (cluster-scoped, so a Role cannot grant them), so no freeze applies to its rollouts; grant list and watch on rolloutfreezes.cutover.dev with a ClusterRole',
        );
        return [];
      }
      return rethrow('list RolloutFreezes', error);
    }
  };

  return {
    async checkChangeWindow(input: ChangeWindowInput): Promise<ChangeWindowVerdict> {
      const [labels, stored] = await Promise.all([namespaceLabels(input.namespace), listFreezes()]);
      if (stored.length > maxRolloutFreezes) {
        // Fail safe: which of them cover the namespace is not known.
        return {
          open: false,
          kind: 'freeze',
          name: '',
          message: `the cluster holds more than ${maxRolloutFreezes} RolloutFreezes, more than a gate reads, so no change is made; delete the freezes that have ended (kubectl get rolloutfreezes)`,
        };
      }
      const covering: CoveringFreeze[] = [];
      for (const raw of stored) {
        const validation = validateRolloutFreeze(raw);
        if (!validation.ok) continue; // See the file's comment: reported on the freeze itself.
        const { freeze } = validation;
        if (!freezeCovers(freeze, labels)) continue;
        covering.push({
          name: freeze.name,
          reason: freeze.reason,
          ...(freeze.start !== undefined ? { start: freeze.start } : {}),
          ...(freeze.end !== undefined ? { end: freeze.end } : {}),
        });
      }
      // Named in a stable order, so that the same cluster gives the same verdict.
      covering.sort((a, b) => a.name.localeCompare(b.name));
      return evaluateChangeWindows(input.windows, covering, now());
    },
  };
}

/** Through the activities' one error boundary: permanent refusals fail the attempt for good, the rest retry. */
async function rethrow(what: string, error: unknown): Promise<never> {
  return kubernetesCall(what, () => Promise.reject(error as Error));
}
