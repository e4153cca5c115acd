// Every promoted revision kept as a ControllerRevision beside the Canary (as Deployments keep their
// ReplicaSets' templates), so `cutover undo` can put back what ran before (canary/promoted-revision.ts
// names the objects). Created once per revision; a revision promoted again gets the next counter, so
// a second undo toggles back like `kubectl rollout undo`. A retried promotion changes nothing more.
import type * as k8s from '@kubernetes/client-node';
import {
  promotedRevisionAnnotation,
  promotedRevisionCanaryLabel,
  promotedRevisionName,
} from '../canary/promoted-revision.ts';
import { generatedMetadata, type CanaryRef } from '../resources/owner.ts';
import { isAlreadyThere, type KubeClients, kubernetesCall, mergePatch } from './kubernetes-client.ts';

export async function recordPromotedRevision(
  clients: KubeClients,
  canary: CanaryRef,
  revision: string,
  template: k8s.V1PodTemplateSpec,
): Promise<void> {
  const { namespace } = canary;
  const name = promotedRevisionName(canary.name, revision);
  const kept = await kubernetesCall(`list the promoted revisions of Canary ${namespace}/${canary.name}`, () =>
    clients.apps.listNamespacedControllerRevision({
      namespace,
      labelSelector: `${promotedRevisionCanaryLabel}=${canary.name}`,
    }),
  );
  const latest = kept.items.reduce<k8s.V1ControllerRevision | undefined>(
    (top, item) => (top === undefined || item.revision > top.revision ? item : top),
    undefined,
  );
  // Already the latest (a retried promotion): nothing to do.
  if (latest?.metadata?.name === name) return;
  const next = (latest?.revision ?? 0) + 1;
  const body: k8s.V1ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: generatedMetadata(
      name,
      canary,
      { [promotedRevisionCanaryLabel]: canary.name },
      { [promotedRevisionAnnotation]: revision },
    ),
    revision: next,
    data: { template },
  };
  try {
    await kubernetesCall(`record promoted revision ${revision} of Canary ${namespace}/${canary.name}`, () =>
      clients.apps.createNamespacedControllerRevision({ namespace, body }),
    );
  } catch (error) {
    if (!isAlreadyThere(error)) throw error;
    // Promoted before (an undo back to it): it becomes the latest again.
    await kubernetesCall(`renumber promoted revision ${revision} of Canary ${namespace}/${canary.name}`, () =>
      clients.apps.patchNamespacedControllerRevision(
        { name, namespace, body: { revision: next } },
        mergePatch,
      ),
    );
  }
}
