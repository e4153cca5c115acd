// Canary objects for tests, shaped like Flagger's blue/green tutorial, with sub-second-friendly timings.
import * as k8s from '@kubernetes/client-node';
import { validateCanary } from '../../canary/validate.ts';
import { applyCrds } from '../../client/crds.ts';
import type { ValidCanary } from '../../canary/validate.ts';
import { kube } from './cluster.ts';

export interface CanaryOptions {
  interval?: string;
  iterations?: number;
  threshold?: number;
  metrics?: Record<string, unknown>[];
  webhooks?: Record<string, unknown>[];
  alerts?: Record<string, unknown>[];
  skipAnalysis?: boolean;
  progressDeadlineSeconds?: number;
  autoscalerRef?: Record<string, unknown>;
}

export function canaryObject(
  name: string,
  namespace: string,
  options: CanaryOptions = {},
): Record<string, unknown> {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace },
    spec: {
      provider: 'kubernetes',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      ...(options.autoscalerRef ? { autoscalerRef: options.autoscalerRef } : {}),
      progressDeadlineSeconds: options.progressDeadlineSeconds ?? 60,
      skipAnalysis: options.skipAnalysis ?? false,
      service: { port: 9898, targetPort: 'http', portDiscovery: true },
      analysis: {
        interval: options.interval ?? '1s',
        iterations: options.iterations ?? 3,
        threshold: options.threshold ?? 2,
        metrics: options.metrics ?? [],
        webhooks: options.webhooks ?? [],
        ...(options.alerts ? { alerts: options.alerts } : {}),
      },
    },
  };
}

/** Applies Cutover's CRDs (server-side, idempotent) and waits until they are served. */
export async function ensureCrds(): Promise<void> {
  await applyCrds(kube().config);
}

/** Creates the Canary in the cluster and returns it validated (with its uid), as the watcher would. */
export async function createCanary(
  object: Record<string, unknown>,
): Promise<{ canary: ValidCanary; uid: string; raw: Record<string, unknown> }> {
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  const metadata = object.metadata as { namespace: string };
  const raw = (await custom.createNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: metadata.namespace,
    plural: 'canaries',
    body: object,
  })) as Record<string, unknown>;
  const validation = validateCanary(raw, { minInterval: '100ms' });
  if (!validation.ok) throw new Error(`test Canary is invalid: ${JSON.stringify(validation.problems)}`);
  const uid = (raw.metadata as { uid: string }).uid;
  return { canary: validation.canary, uid, raw };
}

export async function readCanaryStatus(namespace: string, name: string): Promise<Record<string, unknown>> {
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  const raw = (await custom.getNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace,
    plural: 'canaries',
    name,
  })) as { status?: Record<string, unknown> };
  return raw.status ?? {};
}

/** The Canary's Events, oldest first, as `kubectl describe` lists them. */
export async function canaryEvents(
  namespace: string,
  name: string,
): Promise<{ type: string; reason: string; message: string }[]> {
  const { core } = kube();
  const events = await core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.kind=Canary,involvedObject.name=${name}`,
  });
  return (
    events.items
      // Timestamps have second granularity; the resource version orders creations exactly.
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map((e) => ({ type: e.type ?? '', reason: e.reason ?? '', message: e.message ?? '' }))
  );
}
