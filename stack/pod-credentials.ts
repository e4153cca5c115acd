// What a kubelet mounts into a pod for its ServiceAccount, as a kubeconfig for a local process: the
// local API server and its CA, and a token from the TokenRequest API bound to the pod (it stops
// working when the pod is deleted), so the process has exactly the RBAC its ServiceAccount is granted.
import * as k8s from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

/** A day: longer than any local pod lives; bound to the pod, so it dies with it anyway. */
const tokenSeconds = 86_400;

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
  serviceAccount: string;
}

/** Writes `<dir>/kubeconfig` for the pod's ServiceAccount and returns its path. */
export async function writeServiceAccountKubeconfig(
  admin: k8s.KubeConfig,
  pod: PodIdentity,
  dir: string,
): Promise<string> {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the local kubeconfig names no cluster');
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name: pod.serviceAccount,
    namespace: pod.namespace,
    body: {
      spec: {
        audiences: [],
        expirationSeconds: tokenSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid },
      },
    },
  });
  const token = request.status?.token;
  if (!token)
    throw new Error(
      `the API server issued no token for ServiceAccount ${pod.namespace}/${pod.serviceAccount}`,
    );
  const ca = cluster.caData
    ? { 'certificate-authority-data': cluster.caData }
    : { 'certificate-authority': cluster.caFile };
  const user = `${pod.namespace}/${pod.serviceAccount}`;
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: cluster.server, ...ca } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: user, context: { cluster: 'local', user, namespace: pod.namespace } }],
      'current-context': user,
    }),
    { mode: 0o600 },
  );
  return file;
}
