// Test helpers for the real local cluster: API clients, a namespace per test, readiness waits.
import * as k8s from '@kubernetes/client-node';
import { kubeClient } from '../../stack/cluster.ts';
import { stackEndpoints } from '../../stack/endpoints.ts';
import { readServiceMap as readServiceMapFile } from '../../stack/pod-runner.ts';
import type { ServiceMap } from '../../stack/pod-runner.ts';
import { waitFor } from '../../stack/processes.ts';

export const endpoints = stackEndpoints();

export function kube(): { config: k8s.KubeConfig; core: k8s.CoreV1Api; apps: k8s.AppsV1Api } {
  const config = kubeClient(endpoints.kubeconfig);
  return { config, core: config.makeApiClient(k8s.CoreV1Api), apps: config.makeApiClient(k8s.AppsV1Api) };
}

let counter = 0;

/** A fresh namespace for one test; the returned function deletes it. */
export async function testNamespace(prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
  const { core } = kube();
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`.slice(0, 63);
  await core.createNamespace({ body: { metadata: { name } } });
  await waitFor(
    `ServiceAccount default in ${name}`,
    async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return true;
    },
    30_000,
  );
  return {
    name,
    remove: async () => {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

export const podinfoImage = 'ghcr.io/stefanprodan/podinfo:6.9.2';

/** A podinfo Deployment like the one of Flagger's tutorials. */
export function podinfoDeployment(
  name: string,
  namespace: string,
  replicas: number,
  extraArgs: string[] = [],
): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      minReadySeconds: 0,
      progressDeadlineSeconds: 60,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'podinfod',
              image: podinfoImage,
              command: ['./podinfo', '--port=9898', '--port-metrics=9797', '--level=info', ...extraArgs],
              ports: [
                { name: 'http', containerPort: 9898, protocol: 'TCP' },
                { name: 'http-metrics', containerPort: 9797, protocol: 'TCP' },
              ],
            },
          ],
        },
      },
    },
  };
}

export async function waitForDeploymentAvailable(
  namespace: string,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  const { apps } = kube();
  await waitFor(
    `Deployment ${namespace}/${name} to be Available`,
    async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace });
      const available = d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
      return Boolean(available) && (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1);
    },
    timeoutMs,
  );
}

export function readServiceMap(): ServiceMap {
  return readServiceMapFile(endpoints.servicesFile);
}

/** Waits until the pod runner serves `count` ready endpoints for a Service port; returns its entry. */
export async function waitForServiceEndpoints(
  service: string,
  namespace: string,
  portName: string,
  count: number,
  timeoutMs = 60_000,
): Promise<{ address: string; endpoints: string[] }> {
  let entry: { address: string; endpoints: string[] } | undefined;
  await waitFor(
    `${count} local endpoints for ${service}.${namespace}:${portName}`,
    async () => {
      entry = readServiceMap()[`${service}.${namespace}`]?.[portName];
      return (entry?.endpoints.length ?? 0) === count;
    },
    timeoutMs,
  );
  if (!entry) throw new Error('unreachable');
  return entry;
}
