// Proof that the local cluster runs pods, before `stack up` calls it ready: a Deployment with a pod on
// every node, Ready end to end. A Ready node and an answering apiserver are not enough: on a cold
// start the scheduler, the controller-manager's Deployment and ReplicaSet controllers and KWOK's pod
// stages each come up on their own, and a test that starts in that gap waits on pods that never get
// Ready (CI saw two minutes of it). The probe's image is one the pod runner does not run.
import * as k8s from '@kubernetes/client-node';
import { sleep } from './processes.ts';

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

/** What keeps the probe from being Ready, in one line (for the progress message and the error). */
export function probeBlockers(pods: k8s.V1Pod[], nodes: k8s.V1Node[], expected: number): string {
  const parts: string[] = [];
  if (pods.length < expected) parts.push(`${pods.length} of ${expected} pods created`);
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
  return parts.join('; ') || 'none: every pod and node is Ready, no node is tainted';
}

/**
 * Creates the probe, waits until all its pods are Ready, removes it, and returns how long that took.
 * Says what it still waits on every `reportEveryMs`; throws with the blockers after `timeoutMs`.
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
  const started = Date.now();
  const remove = () =>
    apps
      .deleteNamespacedDeployment({
        name: probeName,
        namespace: probeNamespace,
        propagationPolicy: 'Background',
      })
      .catch(() => undefined);
  // A probe left by an `up` that was cut short would count its old, Ready pods.
  await remove();
  await waitGone(apps);
  await apps.createNamespacedDeployment({ namespace: probeNamespace, body: probeDeployment(nodes) });
  let nextReport = started + reportEveryMs;
  try {
    for (;;) {
      const deployment = await apps.readNamespacedDeployment({ name: probeName, namespace: probeNamespace });
      if ((deployment.status?.readyReplicas ?? 0) >= nodes) return Date.now() - started;
      const now = Date.now();
      if (now >= nextReport || now - started >= timeoutMs) {
        const pods = (
          await core.listNamespacedPod({ namespace: probeNamespace, labelSelector: `app=${probeName}` })
        ).items;
        const blockers = probeBlockers(pods, (await core.listNode()).items, nodes);
        const waited = Math.round((now - started) / 1000);
        if (now - started >= timeoutMs)
          throw new Error(`the local cluster ran no pod within ${waited}s: ${blockers}`);
        say(`the local cluster does not run pods yet (${waited}s): ${blockers}`);
        nextReport = now + reportEveryMs;
      }
      await sleep(250);
    }
  } finally {
    await remove();
  }
}

async function waitGone(apps: k8s.AppsV1Api): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      await apps.readNamespacedDeployment({ name: probeName, namespace: probeNamespace });
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return;
      throw error;
    }
    await sleep(250);
  }
}
