// What every object Cutover generates for a Canary carries: an owner reference to the Canary, so
// that deleting the Canary garbage-collects them, and the `managed-by` label, so that people (and
// `kubectl get -l`) can tell them from their own.
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { apiVersion as canaryApiVersion } from '../canary/spec.ts';
import { managedByLabel, managedByValue } from '../canary/naming.ts';

/** The Canary an object belongs to: enough to write an owner reference and to find the object again. */
export interface CanaryRef {
  name: string;
  namespace: string;
  uid: string;
}

export function canaryOwnerReference(canary: CanaryRef): V1OwnerReference {
  return {
    apiVersion: canaryApiVersion,
    kind: 'Canary',
    name: canary.name,
    uid: canary.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** True when `meta` names this Canary (by uid, so a re-created Canary of the same name is another owner). */
export function isOwnedBy(meta: V1ObjectMeta | undefined, canary: Pick<CanaryRef, 'uid'>): boolean {
  return (meta?.ownerReferences ?? []).some((ref) => ref.kind === 'Canary' && ref.uid === canary.uid);
}

/**
 * The other Canary that owns an object, if one does: a Canary of another uid *and* another name. A
 * namesake with another uid is this Canary deleted and applied again (its old objects not yet
 * garbage-collected), which goes on as before.
 */
export function otherCanaryOwner(
  meta: V1ObjectMeta | undefined,
  canary: Pick<CanaryRef, 'uid' | 'name'>,
): V1OwnerReference | undefined {
  const owner = (meta?.ownerReferences ?? []).find((ref) => ref.kind === 'Canary');
  return owner && owner.uid !== canary.uid && owner.name !== canary.name ? owner : undefined;
}

/** What a Canary whose target another Canary already rolls out is told: the field, who owns it, the fix. */
export function targetTakenMessage(
  canary: CanaryRef,
  target: string,
  primary: string,
  owner: string,
): string {
  return (
    `Canary ${canary.namespace}/${canary.name} cannot run: spec.targetRef: Deployment ${canary.namespace}/${target} ` +
    `is already rolled out by Canary ${canary.namespace}/${owner} (its ${primary} belongs to that Canary). ` +
    'Point spec.targetRef at another Deployment, or delete one of the two Canaries.'
  );
}

/** Metadata of a generated object: name, namespace, owner reference, `managed-by` plus `labels`. */
export function generatedMetadata(
  name: string,
  canary: CanaryRef,
  labels: Readonly<Record<string, string>> = {},
  annotations?: Readonly<Record<string, string>>,
): V1ObjectMeta {
  return {
    name,
    namespace: canary.namespace,
    labels: { ...labels, [managedByLabel]: managedByValue },
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
    ownerReferences: [canaryOwnerReference(canary)],
  };
}

// Annotations that describe one object's history, not the app: copying them to a generated object
// would be wrong (kubectl's last-applied would make `kubectl apply` on the copy misbehave).
const historyAnnotations: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
]);

/** `annotations` without the ones that belong to the source object only. */
export function copyableAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (!historyAnnotations.has(key)) copy[key] = value;
  }
  return copy;
}
