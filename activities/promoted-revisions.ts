// Every promoted revision kept as a ControllerRevision beside the Canary (as Deployments keep their
// ReplicaSets' templates), so `cutover undo` can put back what ran before: `<canary>-<revision>`,
// owned by the Canary, with the target's pod template as it was promoted. Created once per revision;
// a retried promotion finds it there.
import type * as k8s from '@kubernetes/client-node';
import { generatedMetadata, type CanaryRef } from '../resources/owner.ts';
import { isAlreadyThere, type KubeClients, kubernetesCall } from './kubernetes-client.ts';

export const promotedRevisionLabel = 'cutover.dev/canary';
export const promotedRevisionAnnotation = 'cutover.dev/revision';

export function promotedRevisionName(canary: string, revision: string): string {
  return `${canary}-${revision}`.slice(0, 253);
}

export async function recordPromotedRevision(
  clients: KubeClients,
  canary: CanaryRef,
  revision: string,
  template: k8s.V1PodTemplateSpec,
): Promise<void> {
  const { namespace } = canary;
  const existing = await kubernetesCall(
    `list the promoted revisions of Canary ${namespace}/${canary.name}`,
    () =>
      clients.apps.listNamespacedControllerRevision({
        namespace,
        labelSelector: `${promotedRevisionLabel}=${canary.name}`,
      }),
  );
  const next = Math.max(0, ...existing.items.map((item) => item.revision)) + 1;
  const body: k8s.V1ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: generatedMetadata(
      promotedRevisionName(canary.name, revision),
      canary,
      { [promotedRevisionLabel]: canary.name },
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
  }
}
