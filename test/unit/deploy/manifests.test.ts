import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import YAML from 'yaml';
import {
  deployDir,
  droppedPermissions,
  expectedPermissionKeys,
  installedObjects,
  kustomizationFiles,
  objectKey,
  permissionKey,
  readKustomization,
  readManifests,
  repoRoot,
  workerServiceAccount,
  yamlFilesBelow,
} from './manifests.ts';

const base = join(deployDir, 'base');
const example = join(deployDir, 'overlays', 'example');
const objects = kustomizationFiles(deployDir).flatMap((file) => readManifests(file));

function find<T>(kind: string, name: string): T {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(object, `deploy/ has a ${kind} ${name}`);
  return object as unknown as T;
}

const clusterRole = find<k8s.V1ClusterRole>('ClusterRole', 'cutover-worker');
const worker = find<k8s.V1Deployment>('Deployment', 'cutover-worker');
const container = worker.spec?.template.spec?.containers[0];

test('every resource a kustomization lists exists, and every manifest in deploy/ is listed by one', () => {
  const listed = new Set([...kustomizationFiles(deployDir), ...kustomizationFiles(example)]);
  const overlayPatches = (readKustomization(example).patches ?? []).map((p) => join(example, p.path ?? ''));
  const kustomizations = yamlFilesBelow(deployDir).filter((f) => f.endsWith('kustomization.yaml'));
  const compose = join(deployDir, 'compose');
  for (const file of yamlFilesBelow(deployDir)) {
    if (kustomizations.includes(file) || overlayPatches.includes(file) || file.startsWith(compose)) continue;
    assert.ok(listed.has(file), `${relative(repoRoot, file)} is not part of any kustomization`);
  }
  for (const patch of overlayPatches) assert.ok(readManifests(patch).length > 0, patch);
});

test('deploy/ installs the CRDs, the namespace, RBAC, the worker, its metrics Service and the admission policy', () => {
  const kinds = objects.map(objectKey).sort();
  assert.deepEqual(kinds, installedObjects);
  for (const object of objects) {
    const clusterScoped = [
      'Namespace',
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ];
    if (!clusterScoped.includes(object.kind)) assert.equal(object.metadata.namespace, 'cutover-system');
  }
  assert.equal(readKustomization(base).namespace, 'cutover-system');
});

test('the ClusterRole grants exactly what the worker does, and no wildcard', () => {
  const granted: string[] = [];
  for (const rule of clusterRole.rules ?? []) {
    for (const field of [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames]) {
      assert.ok(!field?.includes('*'), `no wildcard in ${JSON.stringify(rule)}`);
    }
    assert.equal(rule.nonResourceURLs, undefined);
    for (const group of rule.apiGroups ?? [])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs) granted.push(permissionKey(group, resource, verb));
  }
  assert.deepEqual(granted.sort(), expectedPermissionKeys());
  // Never delete: owner references let the garbage collector remove generated objects.
  assert.ok(!granted.some((g) => g.endsWith(':delete') || g.endsWith(':deletecollection')));

  // Nothing is limited by name: the worker reads whichever objects Canaries name.
  assert.ok(clusterRole.rules?.every((r) => r.resourceNames === undefined));
});

test('the ClusterRole holds none of the grants the worker does not use', () => {
  const granted = new Set<string>();
  for (const rule of clusterRole.rules ?? [])
    for (const group of rule.apiGroups ?? [])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs) granted.add(permissionKey(group, resource, verb));
  for (const permission of droppedPermissions) {
    const resource = permission.subresource
      ? `${permission.resource}/${permission.subresource}`
      : permission.resource;
    for (const verb of permission.verbs) {
      const key = permissionKey(permission.group, resource, verb);
      assert.ok(!granted.has(key), `${key} is not granted`);
    }
  }
});

test('the binding gives the ClusterRole to the worker service account, which the Deployment runs as', () => {
  const binding = find<k8s.V1ClusterRoleBinding>('ClusterRoleBinding', 'cutover-worker');
  assert.deepEqual(binding.roleRef, {
    apiGroup: 'rbac.authorization.k8s.io',
    kind: 'ClusterRole',
    name: clusterRole.metadata?.name,
  });
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', ...workerServiceAccount }]);
  find('ServiceAccount', workerServiceAccount.name);
  assert.equal(worker.spec?.template.spec?.serviceAccountName, workerServiceAccount.name);
});

test('the worker runs non-root on a read-only root filesystem, without capabilities, within limits', () => {
  const pod = worker.spec?.template.spec;
  assert.equal(pod?.securityContext?.runAsNonRoot, true);
  assert.equal(pod?.securityContext?.runAsUser, 1000);
  assert.equal(pod?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(pod?.containers.length, 1);
  const security = container?.securityContext;
  assert.equal(security?.readOnlyRootFilesystem, true);
  assert.equal(security?.allowPrivilegeEscalation, false);
  assert.deepEqual(security?.capabilities?.drop, ['ALL']);
  assert.equal(security?.capabilities?.add, undefined);
  for (const kind of ['requests', 'limits'] as const) {
    assert.ok(container?.resources?.[kind]?.cpu, `cpu ${kind}`);
    assert.ok(container?.resources?.[kind]?.memory, `memory ${kind}`);
  }
  // Writable scratch space, since the root filesystem is not.
  assert.ok(container?.volumeMounts?.some((m) => m.mountPath === '/tmp'));
  const namespace = find<k8s.V1Namespace>('Namespace', 'cutover-system');
  assert.equal(namespace.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
});

test('the worker is probed on /healthz and /readyz and scraped on /metrics, all on port 8080', () => {
  const port = container?.ports?.find((p) => p.containerPort === 8080);
  assert.ok(port?.name, 'container port 8080 is named');
  for (const [probe, path] of [
    [container?.startupProbe, '/healthz'],
    [container?.livenessProbe, '/healthz'],
    [container?.readinessProbe, '/readyz'],
  ] as const) {
    assert.equal(probe?.httpGet?.path, path);
    assert.ok(probe.httpGet.port === port.name || probe.httpGet.port === 8080);
  }
  assert.deepEqual(container?.args, ['worker']);

  const service = find<k8s.V1Service>('Service', 'cutover-metrics');
  assert.deepEqual(service.metadata?.annotations, {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': '8080',
    'prometheus.io/path': '/metrics',
  });
  assert.equal(service.spec?.ports?.[0]?.port, 8080);
  assert.equal(service.spec?.ports?.[0]?.targetPort, port.name);
  assert.deepEqual(service.spec?.selector, worker.spec?.selector.matchLabels);
  const podLabels = worker.spec?.template.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(service.spec?.selector ?? {}))
    assert.equal(podLabels[key], value);
});

test('the worker is configured by environment: Temporal, Prometheus, log level, API key from a Secret, optional TLS', () => {
  const env = new Map((container?.env ?? []).map((e) => [e.name, e]));
  for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'PROMETHEUS_URL', 'LOG_LEVEL']) {
    assert.ok(env.get(name)?.value, `${name} has a default`);
  }
  assert.deepEqual(env.get('TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef, {
    name: 'cutover-temporal',
    key: 'api-key',
    optional: true,
  });
  const tls = worker.spec?.template.spec?.volumes?.find(
    (v) => v.secret?.secretName === 'cutover-temporal-tls',
  );
  assert.equal(tls?.secret?.optional, true, 'the base starts without a TLS Secret');
  const mount = container?.volumeMounts?.find((m) => m.name === tls?.name);
  assert.equal(mount?.readOnly, true);

  // The example overlay points the TLS variables at the mounted Secret's files.
  const patch = readManifests(join(example, 'worker-patch.yaml'))[0] as unknown as k8s.V1Deployment;
  const patched = new Map(
    (patch.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]),
  );
  for (const [name, key] of [
    ['TEMPORAL_TLS_CERT', 'tls.crt'],
    ['TEMPORAL_TLS_KEY', 'tls.key'],
    ['TEMPORAL_TLS_CA', 'ca.crt'],
  ] as const) {
    assert.equal(patched.get(name), `${mount?.mountPath}/${key}`);
  }
  for (const name of ['TEMPORAL_ADDRESS', 'PROMETHEUS_URL']) assert.ok(patched.get(name), name);
});

test('the image of the Deployment, of compose and of package.json have one version', () => {
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
    .version;
  assert.equal(container?.image, `cutover:${version}`);
  const overlayImage = readKustomization(example).images?.find((i) => i.name === 'cutover');
  assert.equal(overlayImage?.newTag, version);
  const compose = YAML.parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as {
    services: { worker: { image: string } };
  };
  assert.equal(compose.services.worker.image, `cutover:${version}`);
});
