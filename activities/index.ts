// Every activity the worker registers, built from the clients it is given (so tests and the worker
// inject their own). Workflows import only the type.
import type * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { createApexSwitchActivities } from './apex-switch.ts';
import { createChangeWindowActivities, type ChangeWindowDeps } from './change-window.ts';
import { createHandoverActivities } from './handover.ts';
import { withLivenessHeartbeatsAll } from './heartbeats.ts';
import { withRetryReports, type RetryReportDeps } from './retry-reports.ts';
import { createKubernetesActivities } from './kubernetes.ts';
import type { DeploymentWatch } from './kubernetes.ts';
import { createMetricActivities } from './metric-checks.ts';
import { createNotificationActivities } from './notifications.ts';
import { createRolloutStepActivities } from './rollout/index.ts';
import type { DestinationPolicy } from './bounded-http.ts';
import { createWebhookActivities } from './webhooks.ts';

export interface ActivityDeps {
  kubeconfig: k8s.KubeConfig;
  temporal: Client;
  /** Prometheus for builtin metrics when a Canary names no `metricsServer`. */
  defaultPrometheusUrl: string;
  /** The worker's shared Deployment watch, which readiness waits block on; without it they poll. */
  deployments?: DeploymentWatch;
  /** Where Prometheus queries, webhooks and alerts may go. Default: anywhere but link-local and metadata. */
  outboundPolicy?: DestinationPolicy;
  /** Temporal UI's base URL: alerts link to the rollout there. */
  temporalUiUrl?: string;
  /** The worker's informer copy of a Canary, which status writes start from instead of a read. */
  cachedCanary?: (namespace: string, name: string) => Record<string, unknown> | undefined;
  /** The worker's informer copy of a MetricTemplate, which ticks read instead of the API server. */
  cachedMetricTemplate?: (namespace: string, name: string) => unknown;
  /** The deploy-window gate's settings (deadlines; where to say that freezes cannot be read). */
  changeWindows?: ChangeWindowDeps;
}

export function createActivities(deps: ActivityDeps) {
  const raw = {
    // Includes the Canary status and event activities.
    ...createKubernetesActivities(deps.kubeconfig, {
      deployments: deps.deployments,
      ...(deps.cachedCanary ? { cachedCanary: deps.cachedCanary } : {}),
    }),
    ...createMetricActivities(deps),
    ...createNotificationActivities(deps),
    ...createHandoverActivities({ client: deps.temporal }),
    ...createApexSwitchActivities(deps.kubeconfig),
    ...createChangeWindowActivities(deps.kubeconfig, deps.changeWindows),
    ...createWebhookActivities(deps),
  };
  const reports: RetryReportDeps = {
    reportProgress: raw.reportProgress,
    readCanary: raw.readCanary,
    stepDeps: () => raw,
  };
  // A step that keeps failing is said on its Canary (retry-reports.ts), except those whose retries
  // are bounded: their last failure is worded by the workflow. Every activity heartbeats while it
  // runs, so a dead worker's step moves on within its heartbeat timeout; the readiness wait
  // heartbeats itself, with the Deployment's progress as details.
  const bounded = ['checkMetric', 'callWebhook', 'sendAlerts', 'initializeCanaryObjects'] as const;
  const base = withLivenessHeartbeatsAll(withRetryReports(raw, reports, bounded), ['waitForDeploymentReady']);
  // The rollout engine's steps call the base activities through `base` at call time, so a wrapper the
  // worker sets on `base.checkMetric` (Flagger's metric gauge) applies inside the analysis tick too.
  return Object.assign(
    base,
    withLivenessHeartbeatsAll(
      withRetryReports(
        createRolloutStepActivities(() => base),
        reports,
        [],
      ),
      [],
    ),
  );
}

export type CutoverActivities = ReturnType<typeof createActivities>;
