// Change control as deploy/base ships it, installed for tests: the ClusterRoles cutover-approver and
// cutover-operator and the admission policy of RolloutActions, applied server-side (idempotent, like
// the CRDs) and shared by every test; never removed. Resolves once the policy is enforced in the
// namespace asked about (the API server loads a new policy within moments).
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../../stack/processes.ts';
import { probeAdmission } from '../../worker/rollout-actions.ts';
import { applyChangeControl } from '../../client/change-control-install.ts';
import { ensureCrds } from './canaries.ts';
import { kube } from './cluster.ts';

export async function ensureRolloutActionAdmission(namespace: string): Promise<void> {
  await ensureCrds();
  const { config } = kube();
  await applyChangeControl(config, 'cutover-tests');
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  await waitFor(
    `the admission policy to be enforced in ${namespace}`,
    async () => (await probeAdmission(custom, namespace, 5_000)).enforced,
    30_000,
  );
}
