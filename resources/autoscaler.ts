// The primary's HPA (`<hpa>-primary`): the target's HPA copied (min, max, metrics, behavior) and
// pointed at `<target>-primary`, so the primary scales as the target did.
import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { primaryAutoscalerName, primaryName } from '../canary/naming.ts';
import { copyableAnnotations, generatedMetadata, type CanaryRef } from './owner.ts';

export interface PrimaryAutoscalerInput {
  canary: CanaryRef;
  /** The target's HPA (autoscaling/v2) as read. */
  hpa: V2HorizontalPodAutoscaler;
  targetName: string;
}

export function primaryAutoscaler(input: PrimaryAutoscalerInput): V2HorizontalPodAutoscaler {
  const spec = input.hpa.spec;
  const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: generatedMetadata(
      primaryAutoscalerName(input.hpa.metadata?.name ?? ''),
      input.canary,
      input.hpa.metadata?.labels ?? {},
      copyableAnnotations(input.hpa.metadata?.annotations),
    ),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: primaryName(input.targetName) },
      ...(spec?.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      maxReplicas: spec?.maxReplicas ?? 1,
      ...(spec?.metrics ? { metrics: copy(spec.metrics) } : {}),
      ...(spec?.behavior ? { behavior: copy(spec.behavior) } : {}),
    },
  };
}
