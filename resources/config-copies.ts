// `<name>-primary` copies of the ConfigMaps and Secrets the target's pods read, so that the primary
// keeps the configuration of the promoted revision while someone edits the originals.
import type { V1ConfigMap, V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import { primaryConfigName } from '../canary/naming.ts';
import { configTrackingAnnotation } from '../canary/revision.ts';
import { copyableAnnotations, generatedMetadata, type CanaryRef } from './owner.ts';

/** The copy's metadata: `<name>-primary`, owned by the Canary, the source's labels and annotations. */
function copyMetadata(canary: CanaryRef, source: V1ObjectMeta | undefined): V1ObjectMeta {
  const annotations = copyableAnnotations(source?.annotations);
  delete annotations[configTrackingAnnotation];
  return generatedMetadata(primaryConfigName(source?.name ?? ''), canary, source?.labels ?? {}, annotations);
}

export function primaryConfigMap(canary: CanaryRef, source: V1ConfigMap): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: copyMetadata(canary, source.metadata),
    data: { ...source.data },
    binaryData: { ...source.binaryData },
  };
}

export function primarySecret(canary: CanaryRef, source: V1Secret): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: copyMetadata(canary, source.metadata),
    ...(source.type ? { type: source.type } : {}),
    data: { ...source.data },
  };
}
