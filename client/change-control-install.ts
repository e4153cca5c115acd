// Installs what verified steering needs cluster-wide, as deploy/base ships it: the ClusterRoles
// cutover-approver and cutover-operator and the ValidatingAdmissionPolicy (and its binding) that admits
// a RolloutAction only as the user who sent it. Server-side apply, so running it again changes
// nothing. Used by the demo and the tests; a cluster installs the same files with kustomize or the chart.
import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const changeControlManifests = ['steering-roles.yaml', 'rollout-action-admission.yaml'].map((file) =>
  fileURLToPath(new URL(`../deploy/base/${file}`, import.meta.url)),
);

export async function applyChangeControl(config: k8s.KubeConfig, fieldManager = 'cutover'): Promise<void> {
  const objects = k8s.KubernetesObjectApi.makeApiClient(config);
  for (const path of changeControlManifests) {
    for (const doc of YAML.parseAllDocuments(readFileSync(path, 'utf8'))) {
      const body = doc.toJS() as k8s.KubernetesObject | null;
      if (!body) continue;
      await objects.patch(body, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply);
    }
  }
}
