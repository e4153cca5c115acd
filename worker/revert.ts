// `revertOnDeletion: true`: when a Canary is deleted, hand the app back as it was before Cutover: the
// target scaled back up (to the primary's replicas), and a taken-over apex Service given back its own
// selector and ports. Garbage collection then removes what Cutover generated.
import * as k8s from '@kubernetes/client-node';
import { isNotFound } from '../activities/kubernetes-client.ts';
import { apexServiceName, primaryName } from '../canary/naming.ts';
import { apexBeforeTakeoverAnnotation } from '../resources/services.ts';
import type { CanaryObject } from './watcher.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export interface RevertResult {
  targetReplicas?: number;
  apexRestored: boolean;
}

export async function revertCanary(
  kubeconfig: k8s.KubeConfig,
  canary: CanaryObject,
  lastReplicas: (namespace: string, name: string) => number | undefined = () => undefined,
): Promise<RevertResult> {
  const namespace = canary.metadata?.namespace ?? 'default';
  const target = canary.spec?.targetRef?.name;
  if (!target) return { apexRestored: false };
  const apps = kubeconfig.makeApiClient(k8s.AppsV1Api);
  const core = kubeconfig.makeApiClient(k8s.CoreV1Api);

  // The primary may already be garbage-collected; its replicas (as last seen) are what production ran.
  const primary = await apps
    .readNamespacedDeployment({ name: primaryName(target), namespace })
    .catch(() => undefined);
  const replicas = Math.max(1, primary?.spec?.replicas ?? lastReplicas(namespace, primaryName(target)) ?? 1);
  let targetReplicas: number | undefined;
  try {
    await apps.patchNamespacedDeployment(
      { name: target, namespace, body: { spec: { replicas } } },
      mergePatch,
    );
    targetReplicas = replicas;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }

  const service = (canary.spec as { service?: { name?: string } } | undefined)?.service;
  const apexName = apexServiceName(target, service?.name);
  const apex = await core.readNamespacedService({ name: apexName, namespace }).catch(() => undefined);
  const before = apex?.metadata?.annotations?.[apexBeforeTakeoverAnnotation];
  if (!apex || before === undefined) return { targetReplicas, apexRestored: false };
  const previous = JSON.parse(before) as { selector: Record<string, string>; ports: k8s.V1ServicePort[] };
  await core.patchNamespacedService(
    {
      name: apexName,
      namespace,
      body: [
        { op: 'replace', path: '/spec/selector', value: previous.selector },
        { op: 'replace', path: '/spec/ports', value: previous.ports },
        { op: 'remove', path: `/metadata/annotations/${apexBeforeTakeoverAnnotation.replace('/', '~1')}` },
      ],
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
  return { targetReplicas, apexRestored: true };
}
