// Change control as deploy/base ships it, installed for tests: the ClusterRoles cutover-approver and
// cutover-operator and the admission policy of RolloutActions, applied server-side (idempotent, like
// the CRDs) and shared by every test; never removed. Resolves once the policy is enforced in the
// namespace asked about (the API server loads a new policy within moments).
import * as k8s from '@kubernetes/client-node';
import { join } from 'node:path';
import { waitFor } from '../../stack/processes.ts';
import { probeAdmission } from '../../worker/rollout-actions.ts';
import { deployDir, readManifests } from '../unit/deploy/manifests.ts';
import { ensureCrds } from './canaries.ts';
import { kube } from './cluster.ts';

export async function ensureRolloutActionAdmission(namespace: string): Promise<void> {
  await ensureCrds();
  const { config } = kube();
  const objects = k8s.KubernetesObjectApi.makeApiClient(config);
  for (const file of ['steering-roles.yaml', 'rollout-action-admission.yaml']) {
    for (const object of readManifests(join(deployDir, 'base', file))) {
      await objects.patch(
        object as k8s.KubernetesObject,
        undefined,
        undefined,
        'cutover-tests',
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
    }
  }
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  await waitFor(
    `the admission policy to be enforced in ${namespace}`,
    async () => (await probeAdmission(custom, namespace, 5_000)).enforced,
    30_000,
  );
}
