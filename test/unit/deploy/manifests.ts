// The deployable artifacts as the tests read them: YAML documents of deploy/, kustomizations, and the
// permissions the worker needs, stated once for the static check and the check against a real cluster.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const deployDir = join(repoRoot, 'deploy');

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export function readYamlDocuments(path: string): unknown[] {
  return YAML.parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as unknown;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

export function asManifest(doc: unknown, where: string): ManifestObject {
  const object = doc as Partial<ManifestObject> | null;
  if (
    typeof object?.apiVersion !== 'string' ||
    typeof object.kind !== 'string' ||
    typeof object.metadata?.name !== 'string'
  ) {
    throw new Error(`${where}: a Kubernetes object needs apiVersion, kind and metadata.name`);
  }
  return object as ManifestObject;
}

export function readManifests(path: string): ManifestObject[] {
  return readYamlDocuments(path).map((doc, i) => asManifest(doc, `${path} document ${i + 1}`));
}

export interface Kustomization {
  resources?: string[];
  patches?: { path?: string }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  namespace?: string;
}

export function readKustomization(dir: string): Kustomization {
  return YAML.parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
}

/**
 * The manifest files a kustomization builds from, following bases (resources that are folders);
 * throws when a listed resource does not exist.
 */
export function kustomizationFiles(dir: string): string[] {
  const kustomization = readKustomization(dir);
  const files: string[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource);
    if (!existsSync(path))
      throw new Error(
        `${relative(repoRoot, dir)}/kustomization.yaml lists ${resource}, which does not exist`,
      );
    if (statSync(path).isDirectory()) files.push(...kustomizationFiles(path));
    else files.push(path);
  }
  return files;
}

/** Every YAML file below a folder. */
export function yamlFilesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .map((f) => join(dir, f));
}

/** One permission of the worker, as `kubectl auth can-i` asks it. */
export interface Permission {
  group: string;
  resource: string;
  subresource?: string;
  verbs: string[];
}

/**
 * What the worker does in a cluster, and so all that its ClusterRole grants. Each line names the calls
 * that need it; a grant no call needs is not here (least privilege).
 */
export const workerPermissions: Permission[] = [
  // watcher.ts informer (list, watch); canary-status.ts getNamespacedCustomObject.
  { group: 'flagger.app', resource: 'canaries', verbs: ['get', 'list', 'watch'] },
  // canary-status.ts patchNamespacedCustomObjectStatus.
  { group: 'flagger.app', resource: 'canaries', subresource: 'status', verbs: ['patch'] },
  // rollout-actions.ts: `retry` merge-patches the cutover.dev/rollout-attempt annotation.
  { group: 'flagger.app', resource: 'canaries', verbs: ['patch'] },
  // Owner references with blockOwnerDeletion, where OwnerReferencesPermissionEnforcement is enabled.
  { group: 'flagger.app', resource: 'canaries', subresource: 'finalizers', verbs: ['update'] },
  // metric-template-cache.ts informer (list, watch); metric-checks.ts getNamespacedCustomObject while the
  // cache cannot say; notifications.ts getNamespacedCustomObject, by name.
  { group: 'flagger.app', resource: 'metrictemplates', verbs: ['get', 'list', 'watch'] },
  { group: 'flagger.app', resource: 'alertproviders', verbs: ['get'] },
  // rollout-policies.ts listNamespacedCustomObject, patchNamespacedCustomObjectStatus.
  { group: 'cutover.dev', resource: 'rolloutpolicies', verbs: ['list'] },
  { group: 'cutover.dev', resource: 'rolloutpolicies', subresource: 'status', verbs: ['patch'] },
  // change-window.ts listClusterCustomObject; freeze-watch.ts informer (list, watch) and
  // patchClusterCustomObjectStatus.
  { group: 'cutover.dev', resource: 'rolloutfreezes', verbs: ['list', 'watch'] },
  { group: 'cutover.dev', resource: 'rolloutfreezes', subresource: 'status', verbs: ['patch'] },
  // change-window.ts readNamespace (its labels); freeze-watch.ts listNamespace.
  { group: '', resource: 'namespaces', verbs: ['get', 'list'] },
  // rollout-actions.ts informer (list, watch), getNamespacedCustomObject, the admission probe (a dry-run
  // create), patchNamespacedCustomObjectStatus.
  { group: 'cutover.dev', resource: 'rolloutactions', verbs: ['get', 'list', 'watch', 'create'] },
  { group: 'cutover.dev', resource: 'rolloutactions', subresource: 'status', verbs: ['patch'] },
  // Informers (list, watch); readNamespacedDeployment; createNamespacedDeployment (the primary);
  // patchNamespacedDeployment (scale, promotion, revert).
  { group: 'apps', resource: 'deployments', verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  // promoted-revisions.ts listNamespacedControllerRevision, createNamespacedControllerRevision.
  { group: 'apps', resource: 'controllerrevisions', verbs: ['list', 'create', 'patch'] },
  // readNamespacedService; server-side apply (patch, and create when missing); the apex take-over patch.
  { group: '', resource: 'services', verbs: ['get', 'create', 'patch'] },
  // Informers; readNamespacedConfigMap/Secret of a target; server-side apply of the -primary copies;
  // metric-checks.ts and notifications.ts readNamespacedSecret.
  { group: '', resource: 'configmaps', verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  { group: '', resource: 'secrets', verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  // readNamespacedHorizontalPodAutoscaler; server-side apply of the -primary HPA.
  { group: 'autoscaling', resource: 'horizontalpodautoscalers', verbs: ['get', 'create', 'patch'] },
  // canary-status.ts createNamespacedEvent.
  { group: '', resource: 'events', verbs: ['create'] },
];

/**
 * Grants the worker once held and uses no longer: the SubjectAccessReview test checks each is refused.
 */
export const droppedPermissions: Permission[] = [
  { group: 'flagger.app', resource: 'canaries', verbs: ['update'] },
  { group: 'flagger.app', resource: 'canaries', subresource: 'status', verbs: ['update'] },
  { group: 'flagger.app', resource: 'alertproviders', verbs: ['list', 'watch'] },
  { group: 'apps', resource: 'deployments', verbs: ['update'] },
  { group: 'apps', resource: 'deployments', subresource: 'scale', verbs: ['get', 'update', 'patch'] },
  { group: '', resource: 'services', verbs: ['list', 'watch', 'update'] },
  { group: '', resource: 'configmaps', verbs: ['update'] },
  { group: '', resource: 'secrets', verbs: ['update'] },
  { group: 'autoscaling', resource: 'horizontalpodautoscalers', verbs: ['list', 'watch', 'update'] },
  { group: '', resource: 'events', verbs: ['patch'] },
  { group: 'events.k8s.io', resource: 'events', verbs: ['create', 'patch'] },
  { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verbs: ['get'] },
];

/** The CRDs deploy/ installs. (The worker reads none of them: it needs no grant on CRDs.) */
export const workerReadableCrds = [
  'canaries.flagger.app',
  'metrictemplates.flagger.app',
  'alertproviders.flagger.app',
];

/** What `kubectl apply -k deploy/` installs, as `Kind/name`, sorted. */
export const installedObjects = [
  'ClusterRole/cutover-approver',
  'ClusterRole/cutover-freeze-manager',
  'ClusterRole/cutover-operator',
  'ClusterRole/cutover-policy-editor',
  'ClusterRole/cutover-worker',
  'ClusterRoleBinding/cutover-worker',
  ...workerReadableCrds.map((name) => `CustomResourceDefinition/${name}`).sort(),
  'CustomResourceDefinition/rolloutactions.cutover.dev',
  'CustomResourceDefinition/rolloutfreezes.cutover.dev',
  'CustomResourceDefinition/rolloutpolicies.cutover.dev',
  'Deployment/cutover-worker',
  'Namespace/cutover-system',
  'Service/cutover-metrics',
  'ServiceAccount/cutover-worker',
  'ValidatingAdmissionPolicy/cutover-rollout-actions',
  'ValidatingAdmissionPolicyBinding/cutover-rollout-actions',
];

/**
 * Cluster-wide objects of deploy/ that other tests use while they run (the steering roles and the
 * admission policy of RolloutActions): applied like the CRDs, and never removed by a test.
 */
export const sharedClusterObjects = [
  'ClusterRole/cutover-approver',
  'ClusterRole/cutover-operator',
  'ValidatingAdmissionPolicy/cutover-rollout-actions',
  'ValidatingAdmissionPolicyBinding/cutover-rollout-actions',
];

export function objectKey(object: ManifestObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

export function permissionKey(group: string, resource: string, verb: string): string {
  return `${group || 'core'}/${resource}:${verb}`;
}

export function expectedPermissionKeys(): string[] {
  return workerPermissions
    .flatMap((p) =>
      p.verbs.map((verb) =>
        permissionKey(p.group, p.subresource ? `${p.resource}/${p.subresource}` : p.resource, verb),
      ),
    )
    .sort();
}

export const workerServiceAccount = { name: 'cutover-worker', namespace: 'cutover-system' };
