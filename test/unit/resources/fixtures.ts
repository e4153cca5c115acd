// A target Deployment like a Flagger user's: podinfo with config read every way a pod can read it.
import type { V1Deployment } from '@kubernetes/client-node';
import type { CanaryRef } from '../../../resources/owner.ts';

export const canary: CanaryRef = {
  name: 'podinfo',
  namespace: 'test',
  uid: '6a1f0c1e-0000-4000-8000-000000000001',
};

export function target(
  overrides: { matchLabels?: Record<string, string>; replicas?: number } = {},
): V1Deployment {
  const matchLabels = overrides.matchLabels ?? { app: 'podinfo' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'podinfo',
      namespace: 'test',
      labels: { ...matchLabels, team: 'web' },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
        'deployment.kubernetes.io/revision': '3',
        'example.com/owner': 'web-team',
      },
      generation: 3,
      resourceVersion: '123',
      uid: 'target-uid',
    },
    spec: {
      ...(overrides.replicas !== undefined ? { replicas: overrides.replicas } : { replicas: 2 }),
      minReadySeconds: 5,
      revisionHistoryLimit: 4,
      progressDeadlineSeconds: 60,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      selector: { matchLabels },
      template: {
        metadata: {
          labels: { ...matchLabels, version: 'v1' },
          annotations: { 'prometheus.io/scrape': 'true' },
        },
        spec: {
          initContainers: [
            { name: 'init', image: 'busybox', envFrom: [{ secretRef: { name: 'init-secret' } }] },
          ],
          containers: [
            {
              name: 'podinfod',
              image: 'ghcr.io/stefanprodan/podinfo:6.9.2',
              ports: [
                { name: 'http', containerPort: 9898, protocol: 'TCP' },
                { name: 'http-metrics', containerPort: 9797, protocol: 'TCP' },
                { containerPort: 9999, protocol: 'TCP' },
              ],
              env: [
                { name: 'A', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'a' } } },
                { name: 'B', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'b' } } },
                { name: 'C', value: 'plain' },
              ],
              envFrom: [{ configMapRef: { name: 'untracked-cm' } }],
            },
          ],
          imagePullSecrets: [{ name: 'registry' }],
          volumes: [
            { name: 'v1', configMap: { name: 'vol-cm' } },
            { name: 'v2', secret: { secretName: 'vol-secret' } },
            {
              name: 'v3',
              projected: { sources: [{ configMap: { name: 'vol-cm' } }, { secret: { name: 'vol-secret' } }] },
            },
          ],
        },
      },
    },
  };
}

/** Everything the fixture references is tracked except `untracked-cm` (config tracking disabled). */
export const tracked = {
  configMaps: ['env-cm', 'vol-cm'],
  secrets: ['env-secret', 'init-secret', 'vol-secret'],
};
