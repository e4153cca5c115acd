// Proof that the local cluster runs pods, before `stack up` calls it ready: a Deployment with a pod on
// every node, Ready end to end. A Ready node and an answering apiserver are not enough: on a cold
// start the scheduler, the controller-manager's Deployment and ReplicaSet controllers and KWOK's pod
// stages each come up on their own, and a test that starts in that gap waits on pods that never get
// Ready (CI saw two minutes of it). The probe's image is one the pod runner does not run.
import * as k8s from '@kubernetes/client-node';
import { waitFor } from './processes.ts';

export const probeName = 'cutover-stack-probe';
const probeNamespace = 'kube-system';

/** The probe Deployment: one pod per node (required anti-affinity on the hostname). */
export function probeDeployment(nodes: number): k8s.V1Deployment {
  const labels = { app: probeName };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: probeName, namespace: probeNamespace, labels },
    spec: {
      replicas: nodes,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
              ],
            },
          },
          containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }],
        },
      },
    },
  };
}

/** What keeps these pods from being Ready: the pods that are not, and nodes NotReady or tainted. */
export function podReadinessBlockers(pods: k8s.V1Pod[], nodes: k8s.V1Node[]): string[] {
  const parts: string[] = [];
  for (const pod of pods) {
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready) continue;
    const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status !== 'True');
    parts.push(
      `pod ${pod.metadata?.name ?? '?'} ${pod.status?.phase ?? 'Pending'}` +
        (pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : ' unscheduled') +
        (unscheduled?.message ? ` (${unscheduled.message})` : ''),
    );
  }
  for (const node of nodes) {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const taints = (node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
    if (ready?.status !== 'True' || taints.length > 0)
      parts.push(
        `node ${node.metadata?.name ?? '?'} Ready=${ready?.status ?? 'unknown'}` +
          (taints.length > 0 ? ` taints ${taints.join(',')}` : ''),
      );
  }
  return parts;
}

/**
 * Creates the probe, waits until all its pods are Ready, removes it, and returns how long that took.
 * Says what it still waits on every `reportEveryMs`; throws with the same words after `timeoutMs`.
 */
export async function probePods(
  config: k8s.KubeConfig,
  nodes: number,
  say: (message: string) => void,
  timeoutMs = 300_000,
  reportEveryMs = 20_000,
): Promise<number> {
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const at = { name: probeName, namespace: probeNamespace };
  const remove = () =>
    apps.deleteNamespacedDeployment({ ...at, propagationPolicy: 'Background' }).catch(() => undefined);
  const blockers = async (): Promise<string> => {
    const pods = (
      await core.listNamespacedPod({ namespace: probeNamespace, labelSelector: `app=${probeName}` })
    ).items;
    const created = pods.length < nodes ? [`${pods.length} of ${nodes} pods created`] : [];
    return [...created, ...podReadinessBlockers(pods, (await core.listNode()).items)].join('; ');
  };
  const started = Date.now();
  // A probe left by an `up` that was cut short would count its old, Ready pods. Deleting in the
  // background removes the Deployment at once (its ReplicaSet and pods follow), so the create can follow.
  await remove();
  await apps.createNamespacedDeployment({ namespace: probeNamespace, body: probeDeployment(nodes) });
  let nextReport = started + reportEveryMs;
  try {
    await waitFor(
      `a probe pod Ready on each of ${nodes} nodes`,
      async () => {
        if (((await apps.readNamespacedDeployment(at)).status?.readyReplicas ?? 0) >= nodes) return true;
        if (Date.now() >= nextReport) {
          say(
            `the local cluster does not run pods yet (${Math.round((Date.now() - started) / 1000)}s): ${await blockers()}`,
          );
          nextReport = Date.now() + reportEveryMs;
        }
        return false;
      },
      timeoutMs,
    );
    return Date.now() - started;
  } catch (error) {
    const why = await blockers().catch(() => (error instanceof Error ? error.message : String(error)));
    throw new Error(
      `the local cluster did not run a probe pod on every node within ${Math.round(timeoutMs / 1000)}s: ${why}`,
    );
  } finally {
    await remove();
  }
}
