// Where each outside system is. A user who already runs Temporal, a cluster or Prometheus points
// Cutover at them with TEMPORAL_ADDRESS, KUBECONFIG and PROMETHEUS_URL; otherwise the local stack's
// loopback addresses apply.
import { join, resolve } from 'node:path';
import { cacheDir } from './tools.ts';

export interface StackEndpoints {
  stateDir: string;
  temporalAddress: string;
  temporalUiUrl: string;
  temporalNamespace: string;
  kubeconfig: string;
  prometheusUrl: string;
  /** Local addresses of the Services of the cluster, written by the pod runner. */
  servicesFile: string;
  /** Which systems come from the user rather than from the local stack. */
  external: { temporal: boolean; kubernetes: boolean; prometheus: boolean };
}

export const localPorts = {
  temporal: Number(process.env.CUTOVER_TEMPORAL_PORT ?? 7233),
  temporalUi: Number(process.env.CUTOVER_TEMPORAL_UI_PORT ?? 8233),
  prometheus: Number(process.env.CUTOVER_PROMETHEUS_PORT ?? 9090),
  kubeApiserver: Number(process.env.CUTOVER_KUBE_APISERVER_PORT ?? 6443),
};

/** Absolute, so that processes of the stack can be told by the paths on their command lines. */
export function stateDir(): string {
  return resolve(process.env.CUTOVER_STATE_DIR ?? join(cacheDir(), 'stack'));
}

export function localKubeconfig(): string {
  return join(stateDir(), 'kubeconfig.yaml');
}

export function stackEndpoints(): StackEndpoints {
  const dir = stateDir();
  return {
    stateDir: dir,
    temporalAddress: process.env.TEMPORAL_ADDRESS ?? `127.0.0.1:${localPorts.temporal}`,
    temporalUiUrl: process.env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${localPorts.temporalUi}`,
    temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    kubeconfig: process.env.KUBECONFIG ?? localKubeconfig(),
    prometheusUrl: process.env.PROMETHEUS_URL ?? `http://127.0.0.1:${localPorts.prometheus}`,
    servicesFile: join(dir, 'services.json'),
    external: {
      temporal: process.env.TEMPORAL_ADDRESS !== undefined,
      kubernetes: process.env.KUBECONFIG !== undefined,
      prometheus: process.env.PROMETHEUS_URL !== undefined,
    },
  };
}
