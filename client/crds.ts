// Installs Cutover's CRDs (every file in deploy/crds/: Flagger's flagger.app/v1beta1 schemas and
// Cutover's own cutover.dev RolloutPolicy) with server-side apply, and waits until they are served. The body goes to the API server as written: client-node's typed serializer
// would drop the `x-kubernetes-*` schema keys.
import * as k8s from '@kubernetes/client-node';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const crdsDir = fileURLToPath(new URL('../deploy/crds/', import.meta.url));

export async function applyCrds(
  config: k8s.KubeConfig,
  fieldManager = 'cutover',
  timeoutMs = 30_000,
): Promise<string[]> {
  const apiext = config.makeApiClient(k8s.ApiextensionsV1Api);
  const apply = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
  const names: string[] = [];
  for (const file of readdirSync(crdsDir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of YAML.parseAllDocuments(readFileSync(join(crdsDir, file), 'utf8'))) {
      const body = doc.toJS() as { metadata: { name: string } } | null;
      if (!body) continue;
      const name = body.metadata.name;
      await apiext.patchCustomResourceDefinition({ name, body, fieldManager, force: true }, apply);
      names.push(name);
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await apiext.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not Established within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return names;
}
