// Every activity the worker registers, built from the clients it is given (so tests and the worker
// inject their own). Workflows import only the type.
import type * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { createHandoverActivities } from './handover.ts';
import { createKubernetesActivities } from './kubernetes.ts';
import { createMetricActivities } from './metric-checks.ts';
import { createNotificationActivities } from './notifications.ts';
import { callWebhook } from './webhooks.ts';

export interface ActivityDeps {
  kubeconfig: k8s.KubeConfig;
  temporal: Client;
  /** Prometheus for builtin metrics when a Canary names no `metricsServer`. */
  defaultPrometheusUrl: string;
}

export function createActivities(deps: ActivityDeps) {
  return {
    // Includes the Canary status and event activities.
    ...createKubernetesActivities(deps.kubeconfig),
    ...createMetricActivities(deps),
    ...createNotificationActivities(deps),
    ...createHandoverActivities({ client: deps.temporal }),
    callWebhook,
  };
}

export type CutoverActivities = ReturnType<typeof createActivities>;
