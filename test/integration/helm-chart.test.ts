// The Helm chart, proven with the pinned helm on the real local cluster: `helm lint`, `helm template` with
// its output parsed and checked, then `helm install` into a fresh namespace (restricted Pod Security),
// `helm upgrade` with changed values, the objects read back, SubjectAccessReviews for the chart's
// ServiceAccount, a CRD upgraded and kept through uninstall, and `helm uninstall`. Helm talks only to the
// local kube-apiserver, through the stack's kubeconfig, with an empty config and cache of its own.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TestContext } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import YAML from 'yaml';
import { waitFor } from '../../stack/processes.ts';
import { readVersions, toolPath } from '../../stack/tools.ts';
import { endpoints, kube, podinfoDeployment, readServiceMap, testNamespace } from '../support/cluster.ts';
import {
  canaryEvents,
  canaryObject,
  createCanary,
  ensureCrds,
  readCanaryStatus,
} from '../support/canaries.ts';
import { promotePodinfoRollout } from '../support/podinfo-rollout.ts';
import { runCommand } from '../support/run-command.ts';
import type { CommandResult } from '../support/run-command.ts';
import type { ManifestObject } from '../unit/deploy/manifests.ts';
import {
  asManifest,
  deployDir,
  droppedPermissions,
  expectedPermissionKeys,
  permissionKey,
  readManifests,
  repoRoot,
  workerPermissions,
  workerReadableCrds,
} from '../unit/deploy/manifests.ts';

const chartDir = join(repoRoot, 'charts', 'cutover');
const helmHome = mkdtempSync(join(tmpdir(), 'cutover-helm-'));
const release = 'cutover-chart';
const taskQueue = `chart-test-${process.pid}`;
// helm built with `go install` lacks the Kubernetes version its release builds stamp in (it assumes
// 1.20); template for the cluster the stack runs.
const kubeVersion = readVersions().KUBERNETES_VERSION ?? 'v1.34.4';
/** The CRDs of deploy/crds (one a file, named after it), which the chart renders with no edit of its own. */
const deployCrdNames = readdirSync(join(deployDir, 'crds'))
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => file.replace(/\.yaml$/, ''))
  .sort();

/** One helm command against the stack's kubeconfig, with an empty helm config and cache of its own. */
function helm(args: string[], timeoutMs = 180_000): Promise<CommandResult> {
  return runCommand(toolPath('helm'), [...args, '--kubeconfig', endpoints.kubeconfig], {
    env: {
      ...process.env,
      KUBECONFIG: endpoints.kubeconfig,
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
    timeoutMs,
  });
}

async function helmOk(args: string[], timeoutMs?: number): Promise<string> {
  const result = await helm(args, timeoutMs);
  assert.equal(result.code, 0, `helm ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

function parseObjects(text: string, where: string): ManifestObject[] {
  return YAML.parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc, i) => asManifest(doc, `${where} document ${i + 1}`));
}

async function template(namespace: string, set: string[] = []): Promise<ManifestObject[]> {
  const args = ['template', release, chartDir, '--namespace', namespace, '--kube-version', kubeVersion];
  args.push(...set.flatMap((s) => ['--set', s]));
  return parseObjects(await helmOk(args), `helm template ${set.join(' ')}`);
}

function only<T>(objects: ManifestObject[], kind: string, namespace?: string): T {
  const found = objects.filter(
    (o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace),
  );
  assert.equal(found.length, 1, `one ${kind}${namespace ? ` in ${namespace}` : ''}, found ${found.length}`);
  return found[0] as unknown as T;
}

/** The permission keys a set of rules grants (`group/resource:verb`), as manifests.ts spells them. */
function granted(rules: k8s.V1PolicyRule[]): string[] {
  const keys: string[] = [];
  for (const rule of rules) {
    for (const field of [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames])
      assert.ok(!field?.includes('*'), `no wildcard in ${JSON.stringify(rule)}`);
    for (const group of rule.apiGroups ?? [])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs) keys.push(permissionKey(group, resource, verb));
  }
  return keys.sort();
}

function env(deployment: k8s.V1Deployment): Map<string, k8s.V1EnvVar> {
  const container = deployment.spec?.template.spec?.containers[0];
  return new Map((container?.env ?? []).map((e) => [e.name, e]));
}

/** Asks the API server whether the chart's ServiceAccount may do something. */
async function allowed(
  serviceAccount: { name: string; namespace: string },
  attributes: k8s.V1ResourceAttributes,
): Promise<boolean> {
  const authorization = kube().config.makeApiClient(k8s.AuthorizationV1Api);
  const review = await authorization.createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}`,
        groups: [
          'system:serviceaccounts',
          `system:serviceaccounts:${serviceAccount.namespace}`,
          'system:authenticated',
        ],
        resourceAttributes: attributes,
      },
    },
  });
  return review.status?.allowed === true;
}

/** Every permission the worker needs, asked in `namespace`. */
async function assertWorkerMay(
  serviceAccount: { name: string; namespace: string },
  namespace: string,
): Promise<void> {
  for (const permission of workerPermissions) {
    for (const verb of permission.verbs) {
      const attributes: k8s.V1ResourceAttributes = {
        group: permission.group,
        resource: permission.resource,
        verb,
        namespace,
        ...(permission.subresource ? { subresource: permission.subresource } : {}),
      };
      assert.ok(await allowed(serviceAccount, attributes), `may ${verb} ${JSON.stringify(attributes)}`);
    }
  }
}

/** What the worker never needs: deletes, pods, namespaces, CRDs, and the grants deploy/base dropped. */
const refusedEverywhere = (namespace: string): k8s.V1ResourceAttributes[] => [
  ...droppedPermissions.flatMap((p) =>
    p.verbs.map((verb) => ({
      group: p.group,
      resource: p.resource,
      verb,
      ...(p.resource === 'customresourcedefinitions' ? { name: workerReadableCrds[0] } : { namespace }),
      ...(p.subresource ? { subresource: p.subresource } : {}),
    })),
  ),
  { group: 'apps', resource: 'deployments', verb: 'delete', namespace },
  { group: 'flagger.app', resource: 'canaries', verb: 'create', namespace },
  { group: 'flagger.app', resource: 'canaries', verb: 'delete', namespace },
  { group: '', resource: 'pods', verb: 'get', namespace },
  { group: '', resource: 'pods', subresource: 'exec', verb: 'create', namespace },
  { group: '', resource: 'namespaces', verb: 'create' },
  { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verb: 'list' },
  {
    group: 'apiextensions.k8s.io',
    resource: 'customresourcedefinitions',
    verb: 'update',
    name: workerReadableCrds[0],
  },
];

let installNs: { name: string; remove: () => Promise<void> };
let appNs: { name: string; remove: () => Promise<void> };
let otherNs: { name: string; remove: () => Promise<void> };
const serviceAccount = (): { name: string; namespace: string } => ({
  name: release,
  namespace: installNs.name,
});

before(async () => {
  // The network rule: helm may only reach the local kube-apiserver.
  const config = kube().config;
  const server = new URL(config.getCurrentCluster()?.server ?? 'https://invalid');
  assert.ok(
    ['127.0.0.1', 'localhost', '[::1]'].includes(server.hostname),
    `the kubeconfig points at loopback, not ${server.host}`,
  );
  // The cluster has Cutover's and Flagger's CRDs already (as where Flagger runs): the release leaves them.
  await ensureCrds();
  installNs = await testNamespace('chart');
  appNs = await testNamespace('chart-app');
  otherNs = await testNamespace('chart-other');
  // The pods must pass the restricted Pod Security Standard, as in deploy/base's namespace.
  await kube().core.patchNamespace(
    {
      name: installNs.name,
      body: [
        { op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'restricted' },
      ],
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
});

after(async () => {
  await helm(['uninstall', release, '--namespace', installNs.name, '--wait', '--timeout', '60s']);
  await Promise.all([installNs.remove(), appNs.remove(), otherNs.remove()]);
  rmSync(helmHome, { recursive: true, force: true });
});

test('helm carries its release stamps: its version, and the Kubernetes version templates assume', async () => {
  assert.equal(
    (await helmOk(['version', '--template', '{{.Version}} {{.GitTreeState}}'])).trim(),
    `${readVersions().HELM_VERSION} clean`,
  );
  // Without --kube-version, .Capabilities.KubeVersion is what helm's client-go speaks (1.20 unstamped).
  const chart = mkdtempSync(join(tmpdir(), 'cutover-helm-caps-'));
  try {
    mkdirSync(join(chart, 'templates'));
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: caps\nversion: 0.1.0\n');
    writeFileSync(
      join(chart, 'templates', 'caps.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n',
    );
    const out = await helmOk(['template', 'caps', chart]);
    const minor = Number(/kube: "v1\.(\d+)\.\d+"/.exec(out)?.[1]);
    assert.ok(minor >= 34, `helm template assumes Kubernetes 1.${minor}:\n${out}`);
  } finally {
    rmSync(chart, { recursive: true, force: true });
  }
});

test('helm lint passes for the defaults, a watched namespace, mTLS with an API key, and a ServiceMonitor', async () => {
  for (const set of [
    [],
    ['watchNamespace=apps'],
    ['temporal.tls.secretName=temporal-tls', 'temporal.apiKey.secretName=temporal-cloud'],
    ['metrics.serviceMonitor.enabled=true', 'crds.install=false', 'replicas=1'],
    ['grafana.dashboard.enabled=true', 'temporal.uiUrl=https://temporal.example.com', 'crds.flagger=false'],
  ]) {
    const out = await helmOk([
      'lint',
      '--strict',
      '--kube-version',
      kubeVersion,
      chartDir,
      ...set.flatMap((s) => ['--set', s]),
    ]);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

test('helm template renders the CRDs kept, the worker with two replicas and probes, its RBAC, PDB and metrics Service', async () => {
  const objects = await template('cutover-system');
  const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  assert.deepEqual(
    kinds,
    [
      'ClusterRole/cutover-approver',
      'ClusterRole/cutover-freeze-manager',
      'ClusterRole/cutover-operator',
      'ClusterRole/cutover-policy-editor',
      `ClusterRole/${release}`,
      `ClusterRole/${release}-aggregate-to-edit`,
      `ClusterRole/${release}-aggregate-to-view`,
      `ClusterRoleBinding/${release}`,
      ...deployCrdNames.map((name) => `CustomResourceDefinition/${name}`),
      `Deployment/${release}`,
      `PodDisruptionBudget/${release}`,
      `Service/${release}-metrics`,
      `ServiceAccount/${release}`,
      'ValidatingAdmissionPolicy/cutover-rollout-actions',
      'ValidatingAdmissionPolicyBinding/cutover-rollout-actions',
    ].sort(),
  );
  // Change control as deploy/base ships it.
  for (const file of ['steering-roles.yaml', 'policy-roles.yaml', 'rollout-action-admission.yaml']) {
    for (const shipped of readManifests(join(deployDir, 'base', file))) {
      const rendered = objects.find(
        (o) => o.kind === shipped.kind && o.metadata.name === shipped.metadata.name,
      );
      const { metadata: _m, ...body } = shipped;
      const { metadata: _r, ...renderedBody } = rendered ?? shipped;
      assert.deepEqual(
        renderedBody,
        body,
        `${shipped.kind}/${shipped.metadata.name} as in deploy/base/${file}`,
      );
    }
  }

  // The CRDs are deploy/crds' schemas as they are, kept on uninstall.
  const deployCrds = readManifests(join(deployDir, 'crds', 'canaries.flagger.app.yaml'));
  for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition')) {
    const annotations = (crd.metadata as { annotations?: Record<string, string> }).annotations;
    assert.equal(annotations?.['helm.sh/resource-policy'], 'keep', crd.metadata.name);
    if (crd.metadata.name === 'canaries.flagger.app') assert.deepEqual(crd.spec, deployCrds[0]?.spec);
  }

  const deployment = only<k8s.V1Deployment>(objects, 'Deployment');
  const pod = deployment.spec?.template.spec;
  const container = pod?.containers[0];
  assert.equal(deployment.spec?.replicas, 2);
  assert.equal(container?.image, 'cutover:0.1.0');
  assert.deepEqual(container?.args, ['worker']);
  assert.equal(container?.startupProbe?.httpGet?.path, '/healthz');
  assert.equal(container?.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(container?.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(pod?.securityContext?.runAsNonRoot, true);
  assert.equal(pod?.serviceAccountName, release);
  const vars = env(deployment);
  assert.equal(vars.get('TEMPORAL_ADDRESS')?.value, 'temporal-frontend.temporal.svc.cluster.local:7233');
  assert.equal(vars.get('CUTOVER_TASK_QUEUE')?.value, 'cutover');
  assert.equal(vars.get('CUTOVER_WATCH_NAMESPACE'), undefined, 'all namespaces by default');
  assert.equal(vars.get('TEMPORAL_TLS'), undefined, 'plaintext by default');
  assert.equal(vars.get('TEMPORAL_API_KEY'), undefined);
  assert.equal(
    vars.get('TEMPORAL_UI_URL'),
    undefined,
    'alerts carry no link unless temporal.uiUrl says where',
  );

  // The ClusterRole grants exactly what deploy/base's does, which is what the worker needs.
  const role = only<k8s.V1ClusterRole>(
    objects.filter((o) => o.metadata.name === release),
    'ClusterRole',
  );
  assert.deepEqual(granted(role.rules ?? []), expectedPermissionKeys());
  const base = readManifests(join(deployDir, 'base', 'rbac.yaml')).find((o) => o.kind === 'ClusterRole');
  assert.deepEqual(
    role.rules,
    (base as unknown as k8s.V1ClusterRole).rules,
    'the rules of deploy/base/rbac.yaml',
  );
  const binding = only<k8s.V1ClusterRoleBinding>(objects, 'ClusterRoleBinding');
  assert.deepEqual(binding.subjects, [
    { kind: 'ServiceAccount', name: release, namespace: 'cutover-system' },
  ]);

  const pdb = only<k8s.V1PodDisruptionBudget>(objects, 'PodDisruptionBudget');
  assert.equal(pdb.spec?.maxUnavailable, 1);
  assert.deepEqual(pdb.spec?.selector?.matchLabels, deployment.spec?.selector.matchLabels);
  const service = only<k8s.V1Service>(objects, 'Service');
  assert.deepEqual(service.spec?.selector, deployment.spec?.selector.matchLabels);
  assert.deepEqual(
    service.spec?.ports?.map((p) => p.name),
    ['http-metrics', 'sdk-metrics'],
  );
});

test("helm template with crds.flagger=false: only Cutover's own CRDs, for a cluster where Flagger installed its kinds", async () => {
  const crds = (await template('cutover-system', ['crds.flagger=false']))
    .filter((o) => o.kind === 'CustomResourceDefinition')
    .map((o) => o.metadata.name)
    .sort();
  assert.deepEqual(
    crds,
    deployCrdNames.filter((name) => name.endsWith('.cutover.dev')),
  );
});

test('helm template: a watched namespace gets a Role and RoleBinding there, and no ClusterRole for the worker', async () => {
  const objects = await template('cutover-system', ['watchNamespace=apps', 'crds.install=false']);
  assert.equal(objects.filter((o) => o.kind === 'CustomResourceDefinition').length, 0);
  const role = only<k8s.V1Role>(objects, 'Role', 'apps');
  assert.deepEqual(granted(role.rules ?? []), expectedPermissionKeys());
  assert.equal(only<k8s.V1RoleBinding>(objects, 'RoleBinding', 'apps').roleRef.name, release);
  assert.deepEqual(
    objects
      .filter((o) => o.kind.startsWith('Cluster'))
      .map((o) => o.metadata.name)
      .sort(),
    // The people's roles are ClusterRoles bound per namespace; the admission policy is cluster-wide.
    [
      `${release}-aggregate-to-edit`,
      `${release}-aggregate-to-view`,
      'cutover-approver',
      'cutover-freeze-manager',
      'cutover-operator',
      'cutover-policy-editor',
    ].sort(),
  );
  assert.equal(env(only(objects, 'Deployment')).get('CUTOVER_WATCH_NAMESPACE')?.value, 'apps');
});

test('helm template: mTLS files and the API key come from Secrets; a ServiceMonitor scrapes both ports', async () => {
  const objects = await template('cutover-system', [
    'temporal.tls.secretName=temporal-tls',
    'temporal.tls.caKey=',
    'temporal.tls.serverName=temporal.example.com',
    'temporal.apiKey.secretName=temporal-cloud',
    'metrics.serviceMonitor.enabled=true',
  ]);
  const deployment = only<k8s.V1Deployment>(objects, 'Deployment');
  const vars = env(deployment);
  assert.equal(vars.get('TEMPORAL_TLS')?.value, 'true');
  assert.equal(vars.get('TEMPORAL_TLS_CERT')?.value, '/etc/cutover/temporal-tls/tls.crt');
  assert.equal(vars.get('TEMPORAL_TLS_KEY')?.value, '/etc/cutover/temporal-tls/tls.key');
  assert.equal(vars.get('TEMPORAL_TLS_CA'), undefined, 'caKey "" verifies with the system CAs');
  assert.equal(vars.get('TEMPORAL_TLS_SERVER_NAME')?.value, 'temporal.example.com');
  assert.deepEqual(vars.get('TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef, {
    name: 'temporal-cloud',
    key: 'api-key',
  });
  const volume = deployment.spec?.template.spec?.volumes?.find((v) => v.name === 'temporal-tls');
  assert.deepEqual(
    volume?.secret?.items?.map((i) => i.key),
    ['tls.crt', 'tls.key'],
  );
  const monitor = only<{ spec: { endpoints: { port: string; honorLabels: boolean }[] } } & ManifestObject>(
    objects,
    'ServiceMonitor',
  );
  assert.deepEqual(
    monitor.spec.endpoints.map((e) => e.port),
    ['http-metrics', 'sdk-metrics'],
  );
  // flagger_* keep the Canary's namespace label instead of becoming exported_namespace.
  assert.deepEqual(
    monitor.spec.endpoints.map((e) => e.honorLabels),
    [true, true],
  );
});

test('helm template: the Grafana dashboard ConfigMap for the sidecar, and the Temporal UI address for alert links', async () => {
  assert.equal(
    (await template('cutover-system')).filter((o) => o.kind === 'ConfigMap').length,
    0,
    'off by default',
  );
  const objects = await template('cutover-system', [
    'grafana.dashboard.enabled=true',
    'grafana.dashboard.namespace=monitoring',
    'grafana.dashboard.annotations.grafana_folder=Cutover',
    'temporal.uiUrl=https://temporal.example.com',
  ]);
  const dashboard = only<k8s.V1ConfigMap>(objects, 'ConfigMap', 'monitoring');
  assert.equal(dashboard.metadata?.name, `${release}-dashboard`);
  assert.equal(dashboard.metadata?.labels?.grafana_dashboard, '1');
  assert.equal(dashboard.metadata?.annotations?.grafana_folder, 'Cutover');
  assert.deepEqual(
    JSON.parse(dashboard.data?.['cutover-dashboard.json'] ?? '{}'),
    JSON.parse(readFileSync(join(deployDir, 'grafana', 'cutover-dashboard.json'), 'utf8')),
    'deploy/grafana/cutover-dashboard.json as it is',
  );
  const vars = env(only<k8s.V1Deployment>(objects, 'Deployment'));
  assert.equal(vars.get('TEMPORAL_UI_URL')?.value, 'https://temporal.example.com');
});

test('helm refuses bad values with the value and the fix in the message', async () => {
  const cases: [string[], RegExp][] = [
    [['temporal.address=http://temporal:7233'], /temporal\.address must be host:port without a scheme/],
    [['temporal.address=temporal'], /temporal\.address must be host:port \(e\.g\./],
    [['prometheus.url=prometheus:9090'], /prometheus\.url must be an http\(s\) URL/],
    [['watchNamespace=Apps_Team'], /watchNamespace must be a namespace name/],
    [
      ['temporal.uiUrl=temporal-ui:8080'],
      /temporal\.uiUrl must be an http\(s\) URL \(e\.g\. https:\/\/temporal\.example\.com\)/,
    ],
    [['grafana.dashboard.namespace=Monitoring'], /grafana\.dashboard\.namespace must be a namespace name/],
    [
      ['temporal.apiKey.secretName=Temporal_Key'],
      /temporal\.apiKey\.secretName must be a Kubernetes object name/,
    ],
    [
      ['temporal.tls.secretName=tls', 'temporal.tls.keyKey='],
      /certKey and temporal\.tls\.keyKey go together/,
    ],
    // The schema: types, enums and unknown values.
    [['replicas=two'], /at '\/replicas': got string, want integer/],
    [['logLevel=verbose'], /at '\/logLevel': value must be one of 'debug', 'info', 'warn', 'error'/],
    [['replica=3'], /additional properties 'replica' not allowed/],
  ];
  for (const [set, message] of cases) {
    const result = await helm([
      'template',
      release,
      chartDir,
      '--kube-version',
      kubeVersion,
      ...set.flatMap((s) => ['--set', s]),
    ]);
    assert.notEqual(result.code, 0, `helm template --set ${set.join(' ')} fails`);
    assert.match(result.stderr, message);
  }
});

test('helm install into a fresh namespace: the workers roll out, the objects are as rendered, NOTES say what next', async (t: TestContext) => {
  const started = performance.now();
  // The stack installed deploy/crds already (as Flagger would have): the release leaves them to it.
  const out = await helmOk([
    'install',
    release,
    chartDir,
    '--namespace',
    installNs.name,
    '--set',
    'crds.install=false',
    // Likewise the steering roles and the admission policy, which other tests use.
    '--set',
    'changeControl.install=false',
    '--set',
    `temporal.address=${endpoints.temporalAddress}`,
    '--set',
    `temporal.namespace=${endpoints.temporalNamespace}`,
    // A task queue of its own, so that the worker run below takes no other test's tasks.
    '--set',
    `temporal.taskQueue=${taskQueue}`,
    '--set',
    `prometheus.url=${endpoints.prometheusUrl}`,
    '--set',
    `temporal.uiUrl=${endpoints.temporalUiUrl}`,
    '--set',
    'grafana.dashboard.enabled=true',
    '--set-json',
    'extraArgs=["--min-interval=100ms"]',
    '--wait',
    '--timeout',
    '120s',
  ]);
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`helm install --wait took ${seconds.toFixed(1)} s`);
  console.log(`chart install time (helm install --wait, 2 replicas Available): ${seconds.toFixed(1)} s`);
  assert.match(out, /STATUS: deployed/);
  assert.match(out, /kubectl -n \S+ rollout status deployment\//);
  assert.match(out, /Alerts \(AlertProviders\) link to each rollout in Temporal UI at http/);
  assert.match(
    out,
    new RegExp(`The Grafana dashboard is ConfigMap ${release}-dashboard in ${installNs.name}`),
  );

  const { apps, core, config } = kube();
  const deployment = await apps.readNamespacedDeployment({ name: release, namespace: installNs.name });
  assert.equal(deployment.status?.availableReplicas, 2);
  assert.equal(deployment.metadata?.labels?.['app.kubernetes.io/managed-by'], 'Helm');
  const pods = await core.listNamespacedPod({ namespace: installNs.name });
  assert.equal(pods.items.length, 2, 'two worker pods admitted under the restricted Pod Security Standard');
  assert.equal(pods.items[0]?.spec?.serviceAccountName, release);
  await core.readNamespacedServiceAccount({ name: release, namespace: installNs.name });
  await core.readNamespacedService({ name: `${release}-metrics`, namespace: installNs.name });
  const dashboard = await core.readNamespacedConfigMap({
    name: `${release}-dashboard`,
    namespace: installNs.name,
  });
  assert.equal(dashboard.metadata?.labels?.grafana_dashboard, '1');
  assert.equal(
    (JSON.parse(dashboard.data?.['cutover-dashboard.json'] ?? '{}') as { uid?: string }).uid,
    'cutover-rollouts',
  );
  const policy = config.makeApiClient(k8s.PolicyV1Api);
  const pdb = await policy.readNamespacedPodDisruptionBudget({ name: release, namespace: installNs.name });
  await waitFor(
    'the PDB to count the workers',
    async () => {
      const read = await policy.readNamespacedPodDisruptionBudget({
        name: release,
        namespace: installNs.name,
      });
      return read.status?.expectedPods === 2 && read.status.disruptionsAllowed === 1;
    },
    30_000,
  );
  assert.equal(pdb.spec?.maxUnavailable, 1);
  const rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
  const role = await rbac.readClusterRole({ name: release });
  assert.deepEqual(granted(role.rules ?? []), expectedPermissionKeys());
  // The aggregated roles reach Kubernetes' own view role.
  await waitFor(
    'view to aggregate the Canary rules',
    async () => {
      const view = await rbac.readClusterRole({ name: 'view' });
      return (view.rules ?? []).some(
        (r) => r.apiGroups?.includes('flagger.app') && r.resources?.includes('canaries'),
      );
    },
    30_000,
  );
});

test("the chart's ServiceAccount may do what the worker does in any namespace, and nothing else that was asked", async () => {
  await waitFor(
    'the ClusterRoleBinding to take effect',
    () =>
      allowed(serviceAccount(), {
        group: 'flagger.app',
        resource: 'canaries',
        verb: 'list',
        namespace: appNs.name,
      }),
    30_000,
  );
  await assertWorkerMay(serviceAccount(), appNs.name);
  for (const attributes of refusedEverywhere(appNs.name))
    assert.equal(await allowed(serviceAccount(), attributes), false, `may not ${JSON.stringify(attributes)}`);
});

test('helm upgrade with a watched namespace and three replicas: a Role there, refused elsewhere', async () => {
  await helmOk([
    'upgrade',
    release,
    chartDir,
    '--namespace',
    installNs.name,
    '--reuse-values',
    '--set',
    `watchNamespace=${appNs.name}`,
    '--set',
    'replicas=3',
    '--wait',
    '--timeout',
    '120s',
  ]);
  const status = JSON.parse(
    await helmOk(['status', release, '--namespace', installNs.name, '-o', 'json']),
  ) as {
    version: number;
    info: { status: string };
  };
  assert.equal(status.version, 2);
  assert.equal(status.info.status, 'deployed');

  const { apps, config } = kube();
  const deployment = await apps.readNamespacedDeployment({ name: release, namespace: installNs.name });
  assert.equal(deployment.spec?.replicas, 3);
  assert.equal(deployment.status?.availableReplicas, 3);
  assert.equal(env(deployment).get('CUTOVER_WATCH_NAMESPACE')?.value, appNs.name);
  assert.equal(
    env(deployment).get('TEMPORAL_ADDRESS')?.value,
    endpoints.temporalAddress,
    '--reuse-values kept the address',
  );
  const rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
  const role = await rbac.readNamespacedRole({ name: release, namespace: appNs.name });
  assert.deepEqual(granted(role.rules ?? []), expectedPermissionKeys());
  await assert.rejects(rbac.readClusterRole({ name: release }), 'the ClusterRole is gone');

  await waitFor(
    'the removed ClusterRole to stop granting',
    async () =>
      !(await allowed(serviceAccount(), {
        group: 'flagger.app',
        resource: 'canaries',
        verb: 'list',
        namespace: otherNs.name,
      })),
    30_000,
  );
  await assertWorkerMay(serviceAccount(), appNs.name);
  for (const attributes of [
    { group: 'flagger.app', resource: 'canaries', verb: 'watch', namespace: otherNs.name },
    { group: 'apps', resource: 'deployments', verb: 'create', namespace: otherNs.name },
    { group: '', resource: 'secrets', verb: 'get', namespace: otherNs.name },
    ...refusedEverywhere(appNs.name),
  ])
    assert.equal(await allowed(serviceAccount(), attributes), false, `may not ${JSON.stringify(attributes)}`);
});

/**
 * The chart's worker pods as the stack's pod runner runs them (stack/worker-pod.ts): each the image's
 * entrypoint with the container's args and env, on loopback ports, with a token of the chart's
 * ServiceAccount. Waits until the chart's metrics Service has `count` endpoints that answer /readyz.
 */
async function chartWorkers(count: number): Promise<{ logs(): string }> {
  const { core } = kube();
  // The logs of the pods that run now: pods replaced by an upgrade ran with other grants.
  let current: string[] = [];
  const logs = (): string =>
    current
      .map((pod) => {
        try {
          return readFileSync(
            join(endpoints.stateDir, 'logs', 'pods', `${installNs.name}_${pod}.log`),
            'utf8',
          );
        } catch {
          return '';
        }
      })
      .join('\n');
  await waitFor(
    `${count} chart workers behind ${release}-metrics answering 200 on /readyz`,
    async () => {
      const pods = (await core.listNamespacedPod({ namespace: installNs.name })).items.filter(
        (p) => p.metadata?.deletionTimestamp === undefined,
      );
      current = pods.map((p) => p.metadata?.name ?? '');
      const served = readServiceMap()[`${release}-metrics.${installNs.name}`]?.['http-metrics'];
      if (pods.length !== count || served?.endpoints.length !== count) return false;
      const answers = await Promise.all(
        served.endpoints.map((address) =>
          fetch(`http://${address}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
            (r) => r.status,
            () => 0,
          ),
        ),
      );
      return answers.every((status) => status === 200);
    },
    120_000,
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs().slice(-4000)}`);
  });
  return { logs };
}

test("the chart's worker pods, run by the pod runner as their containers say with their ServiceAccount's token, promote a rollout", async (t: TestContext) => {
  const workers = await chartWorkers(3);
  const ns = appNs.name;
  try {
    const started = performance.now();
    await promotePodinfoRollout(ns, workers.logs);
    t.diagnostic(`initialized and promoted in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // A 403 names the namespace as `in the namespace \"<ns>\"` in the JSON log line.
    const refusedHere = workers
      .logs()
      .split('\n')
      .filter((line) => /forbidden/i.test(line) && line.includes(`namespace \\"${ns}\\"`));
    assert.deepEqual(refusedHere, [], "no call in the watched namespace was refused by the chart's RBAC");
  } catch (error) {
    process.stderr.write(workers.logs().slice(-8000));
    throw error;
  }
});

test('with a rule missing from its Role, the rollout stops with an error that names the refused call', async (t: TestContext) => {
  // The chart's Role in the watched namespace, without its Services rule, under the running workers.
  const ns = appNs.name;
  const rbac = kube().config.makeApiClient(k8s.RbacAuthorizationV1Api);
  const role = await rbac.readNamespacedRole({ name: release, namespace: ns });
  const rules = (role.rules ?? []).filter((rule) => !rule.resources?.includes('services'));
  assert.equal(rules.length, (role.rules ?? []).length - 1);
  await rbac.replaceNamespacedRole({ name: release, namespace: ns, body: { ...role, rules } });
  const workers = await chartWorkers(3);
  await waitFor(
    'the narrowed Role to take effect',
    async () =>
      !(await allowed(serviceAccount(), { group: '', resource: 'services', verb: 'patch', namespace: ns })),
    30_000,
  );
  try {
    const { apps } = kube();
    await apps.createNamespacedDeployment({ namespace: ns, body: podinfoDeployment('norule', ns, 1) });
    await createCanary(canaryObject('norule', ns, { interval: '300ms', iterations: 3 }));
    let said = '';
    await waitFor(
      'a Warning on the Canary about the refused Service call',
      async () => {
        const events = await canaryEvents(ns, 'norule');
        said = events.map((e) => `${e.type} ${e.reason}: ${e.message}`).join('\n');
        return events.some(
          (e) => e.type === 'Warning' && /cannot (patch|create) resource "services"/.test(e.message),
        );
      },
      90_000,
    );
    t.diagnostic(said);
    await waitFor(
      'the Canary to be Failed',
      async () => (await readCanaryStatus(ns, 'norule')).phase === 'Failed',
      30_000,
    );
  } catch (error) {
    process.stderr.write(workers.logs().slice(-8000));
    throw error;
  }
});

test('the worker watching one namespace asks for nothing outside it', async () => {
  const workers = await chartWorkers(3);
  const refused = workers
    .logs()
    .split('\n')
    .filter((line) => /forbidden/i.test(line) && !line.includes(`namespace \\"${appNs.name}\\"`));
  assert.deepEqual(refused, []);
});

test('a Cutover pod whose Temporal address is not on this machine is not run, and its pod says why', async () => {
  // deploy/base's Deployment as written: TEMPORAL_ADDRESS names an in-cluster Service this cluster lacks.
  const ns = otherNs.name;
  const { apps, core } = kube();
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'elsewhere' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'elsewhere' } },
        template: {
          metadata: { labels: { app: 'elsewhere' } },
          spec: {
            containers: [
              {
                name: 'worker',
                image: 'registry.example.com/platform/cutover:0.1.0',
                args: ['worker'],
                env: [
                  { name: 'TEMPORAL_ADDRESS', value: 'temporal-frontend.temporal.svc.cluster.local:7233' },
                ],
              },
            ],
          },
        },
      },
    },
  });
  let message = '';
  await waitFor(
    'a Warning event on the pod',
    async () => {
      const events = await core.listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.kind=Pod,reason=NotRunLocally',
      });
      message = events.items[0]?.message ?? '';
      return message !== '';
    },
    60_000,
  );
  assert.match(
    message,
    /env TEMPORAL_ADDRESS names temporal-frontend\.temporal\.svc\.cluster\.local:7233, which is neither 127\.0\.0\.1 nor a Service of this cluster .*set it to the local address/,
  );
});

test('helm uninstall removes the release and its cluster-wide RBAC', async () => {
  await helmOk(['uninstall', release, '--namespace', installNs.name, '--wait', '--timeout', '60s']);
  const { apps, config } = kube();
  const rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
  const gone = async (read: () => Promise<unknown>): Promise<boolean> =>
    read().then(
      () => false,
      () => true,
    );
  assert.ok(await gone(() => apps.readNamespacedDeployment({ name: release, namespace: installNs.name })));
  assert.ok(await gone(() => rbac.readClusterRole({ name: release })));
  assert.ok(await gone(() => rbac.readClusterRoleBinding({ name: release })));
  assert.ok(await gone(() => rbac.readNamespacedRole({ name: release, namespace: appNs.name })));
  assert.ok(await gone(() => rbac.readClusterRole({ name: `${release}-aggregate-to-view` })));
  // The CRDs the stack installed are untouched.
  const apiext = config.makeApiClient(k8s.ApiextensionsV1Api);
  for (const name of deployCrdNames) await apiext.readCustomResourceDefinition({ name });
});

test('CRDs rendered by the chart are upgraded by helm upgrade and kept by helm uninstall', async () => {
  // A copy of the chart whose files/crds holds one CRD of a test group, so that the shared flagger.app
  // CRDs (installed by the stack, not by Helm) stay out of it.
  const copy = mkdtempSync(join(tmpdir(), 'cutover-chart-'));
  const group = `${process.pid}.charttest.cutover.dev`;
  const name = `gadgets.${group}`;
  const crd = (printerColumn: boolean): unknown => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group,
      names: { kind: 'Gadget', listKind: 'GadgetList', plural: 'gadgets', singular: 'gadget' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          ...(printerColumn
            ? { additionalPrinterColumns: [{ name: 'Size', type: 'string', jsonPath: '.spec.size' }] }
            : {}),
        },
      ],
    },
  });
  const crdRelease = 'cutover-crds';
  const apiext = kube().config.makeApiClient(k8s.ApiextensionsV1Api);
  try {
    cpSync(chartDir, join(copy, 'cutover'), { recursive: true, dereference: true });
    rmSync(join(copy, 'cutover', 'files', 'crds'), { recursive: true });
    mkdirSync(join(copy, 'cutover', 'files', 'crds'));
    const file = join(copy, 'cutover', 'files', 'crds', `${name}.yaml`);
    const common = [
      '--namespace',
      otherNs.name,
      '--set',
      'replicas=0',
      '--set',
      'rbac.aggregateToUserRoles=false',
      '--set',
      'changeControl.install=false',
      '--wait',
      '--timeout',
      '60s',
    ];
    writeFileSync(file, YAML.stringify(crd(false)));
    await helmOk(['install', crdRelease, join(copy, 'cutover'), ...common]);
    const installed = await apiext.readCustomResourceDefinition({ name });
    assert.equal(installed.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.equal(installed.spec.versions[0]?.additionalPrinterColumns, undefined);
    writeFileSync(file, YAML.stringify(crd(true)));
    await helmOk(['upgrade', crdRelease, join(copy, 'cutover'), ...common]);
    const upgraded = await apiext.readCustomResourceDefinition({ name });
    assert.deepEqual(
      upgraded.spec.versions[0]?.additionalPrinterColumns?.map((c) => c.name),
      ['Size'],
    );

    await helmOk(['uninstall', crdRelease, '--namespace', otherNs.name, '--wait', '--timeout', '60s']);
    const kept = await apiext.readCustomResourceDefinition({ name });
    assert.equal(
      kept.metadata?.deletionTimestamp,
      undefined,
      'the CRD (and every object of it) survives uninstall',
    );
  } finally {
    await helm(['uninstall', crdRelease, '--namespace', otherNs.name]);
    await apiext.deleteCustomResourceDefinition({ name }).catch(() => undefined);
    rmSync(copy, { recursive: true, force: true });
  }
});
