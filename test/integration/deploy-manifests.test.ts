// The manifests of deploy/ against a real kube-apiserver: rendered by kustomize as `kubectl apply -k`
// renders them, sent as written (raw JSON, strict field validation, server-side apply) so that a
// misspelled field fails here rather than being dropped, applied for real, and the worker's service
// account asked what it may do. CRDs are only dry-run: other tests share them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import https from 'node:https';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import YAML from 'yaml';
import { waitFor } from '../../stack/processes.ts';
import { toolPath } from '../../stack/tools.ts';
import { canaryEvents, canaryObject, ensureCrds, readCanaryStatus } from '../support/canaries.ts';
import { endpoints, kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { WorkerProcess } from '../support/worker-process.ts';
import type { ManifestObject, Permission } from '../unit/deploy/manifests.ts';
import {
  asManifest,
  deployDir,
  droppedPermissions,
  installedObjects,
  objectKey,
  workerPermissions,
  workerReadableCrds,
  workerServiceAccount,
} from '../unit/deploy/manifests.ts';

const run = promisify(execFile);
const fieldManager = 'cutover-deploy-test';
const namespace = 'cutover-system';

async function kustomize(dir: string): Promise<ManifestObject[]> {
  const { stdout } = await run(toolPath('kubectl'), ['kustomize', dir]);
  return YAML.parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as unknown)
    .filter(Boolean)
    .map((doc, i) => asManifest(doc, `kubectl kustomize ${dir} document ${i + 1}`));
}

/** One request to the API server with the kubeconfig's credentials; the body goes as written. */
async function request(
  config: k8s.KubeConfig,
  method: string,
  path: string,
  body?: { contentType: string; data: unknown },
): Promise<{ status: number; body: unknown }> {
  const server = config.getCurrentCluster()?.server;
  assert.ok(server, 'the kubeconfig names a server');
  const options: https.RequestOptions = {
    method,
    headers: body
      ? { 'content-type': body.contentType, accept: 'application/json' }
      : { accept: 'application/json' },
  };
  await config.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, server), options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text for the error message
        }
        resolve({ status: response.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body.data));
    req.end();
  });
}

interface ResourceInfo {
  name: string;
  namespaced: boolean;
}
const discovered = new Map<string, ResourceInfo>();

/** The REST path of an object, from the API server's discovery (so any kind in deploy/ works). */
async function objectPath(config: k8s.KubeConfig, object: ManifestObject): Promise<string> {
  const groupVersion = object.apiVersion.includes('/')
    ? `/apis/${object.apiVersion}`
    : `/api/${object.apiVersion}`;
  const key = `${groupVersion}:${object.kind}`;
  if (!discovered.has(key)) {
    const { status, body } = await request(config, 'GET', groupVersion);
    assert.equal(status, 200, `discovery of ${groupVersion}: ${JSON.stringify(body)}`);
    const resource = (body as { resources: (ResourceInfo & { kind: string })[] }).resources.find(
      (r) => r.kind === object.kind && !r.name.includes('/'),
    );
    assert.ok(resource, `the API server serves ${object.kind} in ${object.apiVersion}`);
    discovered.set(key, resource);
  }
  const resource = discovered.get(key) as ResourceInfo;
  const scope = resource.namespaced ? `/namespaces/${object.metadata.namespace ?? 'default'}` : '';
  return `${groupVersion}${scope}/${resource.name}/${object.metadata.name}`;
}

/** Server-side apply of an object exactly as the manifest has it; unknown or duplicate fields fail. */
async function apply(config: k8s.KubeConfig, object: ManifestObject, dryRun: boolean): Promise<unknown> {
  const query = new URLSearchParams({ fieldManager, force: 'true', fieldValidation: 'Strict' });
  if (dryRun) query.set('dryRun', 'All');
  const path = `${await objectPath(config, object)}?${query.toString()}`;
  const { status, body } = await request(config, 'PATCH', path, {
    contentType: 'application/apply-patch+yaml',
    data: object,
  });
  assert.ok(
    status >= 200 && status < 300,
    `apply of ${object.kind} ${object.metadata.name} answered ${status}: ${(body as { message?: string }).message ?? JSON.stringify(body)}`,
  );
  return body;
}

async function namespaceGone(): Promise<boolean> {
  try {
    await kube().core.readNamespace({ name: namespace });
    return false;
  } catch {
    return true;
  }
}

async function removeInstallation(): Promise<void> {
  const { config, core } = kube();
  const rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.deleteClusterRoleBinding({ name: 'cutover-worker' }).catch(() => undefined);
  await rbac.deleteClusterRole({ name: 'cutover-worker' }).catch(() => undefined);
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
}

let rendered: ManifestObject[] = [];

before(async () => {
  rendered = await kustomize(deployDir);
  // A previous run's namespace may still be terminating.
  await waitFor(
    `namespace ${namespace} left by an earlier run to be deleted`,
    async () => {
      const ns = await kube()
        .core.readNamespace({ name: namespace })
        .catch(() => undefined);
      return ns?.status?.phase !== 'Terminating';
    },
    120_000,
  );
});

after(async () => {
  await removeInstallation();
  await waitFor(`namespace ${namespace} to be deleted`, namespaceGone, 120_000).catch(() => undefined);
});

test('kubectl kustomize renders deploy/, deploy/base and the example overlay', async () => {
  const kinds = rendered.map(objectKey).sort();
  assert.deepEqual(kinds, installedObjects);
  const base = await kustomize(join(deployDir, 'base'));
  assert.deepEqual(
    base.map((o) => o.kind).sort(),
    rendered
      .filter((o) => o.kind !== 'CustomResourceDefinition')
      .map((o) => o.kind)
      .sort(),
  );

  const overlay = await kustomize(join(deployDir, 'overlays', 'example'));
  const deployment = overlay.find((o) => o.kind === 'Deployment') as unknown as k8s.V1Deployment;
  const container = deployment.spec?.template.spec?.containers[0];
  assert.equal(container?.image, 'registry.example.com/platform/cutover:0.1.0');
  const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
  assert.equal(env.TEMPORAL_ADDRESS, 'temporal.example.com:7233');
  assert.equal(env.TEMPORAL_TLS_CERT, '/etc/cutover/temporal-tls/tls.crt');
  assert.match(String(env.PROMETHEUS_URL), /^http:\/\/.+:9090$/);
  // The base's variables the overlay does not change are kept, merged by name.
  assert.equal(env.LOG_LEVEL, 'info');
  assert.ok(env.TEMPORAL_API_KEY);
  const tls = deployment.spec?.template.spec?.volumes?.find((v) => v.name === 'temporal-tls');
  assert.deepEqual(tls?.secret, { secretName: 'cutover-temporal-tls', optional: false, defaultMode: 0o440 });
});

test('the rendered manifests apply to a real kube-apiserver with strict field validation', async () => {
  const { config } = kube();
  // CRDs first and only as a dry run: they are installed already and shared with the other tests.
  for (const crd of rendered.filter((o) => o.kind === 'CustomResourceDefinition'))
    await apply(config, crd, true);
  const order = ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Service', 'Deployment'];
  const objects = rendered
    .filter((o) => o.kind !== 'CustomResourceDefinition')
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  for (const object of objects) await apply(config, object, false);

  // Applying again changes nothing: the manifests are what the server stores.
  const { apps } = kube();
  const generation = (await apps.readNamespacedDeployment({ name: 'cutover-worker', namespace })).metadata
    ?.generation;
  for (const object of objects) await apply(config, object, false);
  assert.equal(
    (await apps.readNamespacedDeployment({ name: 'cutover-worker', namespace })).metadata?.generation,
    generation,
  );

  // The example overlay's Deployment is accepted too.
  const overlay = await kustomize(join(deployDir, 'overlays', 'example'));
  for (const object of overlay.filter((o) => o.kind === 'Deployment')) await apply(config, object, true);
});

test('the worker pod meets the restricted Pod Security Standard the namespace enforces', async () => {
  const { core, apps } = kube();
  // The ReplicaSet controller creates the pod; PodSecurity admission would refuse it, leaving a
  // ReplicaFailure condition and no pod.
  let refusal: string | undefined;
  await waitFor(
    'a cutover-worker pod, or its refusal',
    async () => {
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: 'app.kubernetes.io/name=cutover,app.kubernetes.io/component=worker',
      });
      const sets = await apps.listNamespacedReplicaSet({ namespace });
      refusal = sets.items
        .flatMap((s) => s.status?.conditions ?? [])
        .find((c) => c.type === 'ReplicaFailure' && c.status === 'True')?.message;
      return pods.items.length > 0 || refusal !== undefined;
    },
    60_000,
  );
  assert.equal(refusal, undefined, 'the ReplicaSet could create the worker pod');
  const ns = await core.readNamespace({ name: namespace });
  assert.equal(ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
});

test("the worker's service account may do what the worker does, and nothing else that was asked", async () => {
  const { config } = kube();
  const authorization = config.makeApiClient(k8s.AuthorizationV1Api);
  const user = `system:serviceaccount:${workerServiceAccount.namespace}:${workerServiceAccount.name}`;
  const groups = [
    'system:serviceaccounts',
    `system:serviceaccounts:${workerServiceAccount.namespace}`,
    'system:authenticated',
  ];
  const allowed = async (attributes: k8s.V1ResourceAttributes): Promise<boolean> => {
    const review = await authorization.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: attributes },
      },
    });
    return review.status?.allowed === true;
  };
  const inApp = 'apps-team';

  // The binding reaches the authorizer's cache within moments of being applied.
  await waitFor(
    'the ClusterRoleBinding to take effect',
    () => allowed({ group: 'flagger.app', resource: 'canaries', verb: 'list' }),
    30_000,
  );

  const asked = (permission: Permission, verb: string): k8s.V1ResourceAttributes => ({
    group: permission.group,
    resource: permission.resource,
    verb,
    ...(permission.resource === 'customresourcedefinitions'
      ? { name: workerReadableCrds[0] }
      : { namespace: inApp }),
    ...(permission.subresource ? { subresource: permission.subresource } : {}),
  });
  for (const permission of workerPermissions) {
    for (const verb of permission.verbs) {
      const attributes = asked(permission, verb);
      assert.ok(await allowed(attributes), `may ${verb} ${JSON.stringify(attributes)}`);
    }
  }
  // The grants the worker held before and never used (canaries update/patch, deployments/scale,
  // events.k8s.io, CRD get, list/watch on templates and providers, every `update`) are gone.
  for (const permission of droppedPermissions) {
    for (const verb of permission.verbs) {
      const attributes = asked(permission, verb);
      assert.equal(await allowed(attributes), false, `may not ${verb} ${JSON.stringify(attributes)}`);
    }
  }

  const refused: k8s.V1ResourceAttributes[] = [
    { group: 'apps', resource: 'deployments', verb: 'delete', namespace: inApp },
    { group: '', resource: 'services', verb: 'delete', namespace: inApp },
    { group: 'flagger.app', resource: 'canaries', verb: 'create', namespace: inApp },
    { group: 'flagger.app', resource: 'canaries', verb: 'delete', namespace: inApp },
    { group: 'flagger.app', resource: 'metrictemplates', verb: 'update', namespace: inApp },
    { group: '', resource: 'pods', verb: 'get', namespace: inApp },
    { group: '', resource: 'pods', subresource: 'exec', verb: 'create', namespace: inApp },
    { group: '', resource: 'namespaces', verb: 'create' },
    { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'escalate' },
    { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verb: 'list' },
    {
      group: 'apiextensions.k8s.io',
      resource: 'customresourcedefinitions',
      verb: 'get',
      name: 'certificates.cert-manager.io',
    },
    {
      group: 'apiextensions.k8s.io',
      resource: 'customresourcedefinitions',
      verb: 'update',
      name: workerReadableCrds[0],
    },
    { group: '', resource: 'secrets', verb: 'delete', namespace: inApp },
    { group: '', resource: 'serviceaccounts', subresource: 'token', verb: 'create', namespace: inApp },
    { group: 'coordination.k8s.io', resource: 'leases', verb: 'create', namespace: inApp },
  ];
  for (const attributes of refused)
    assert.equal(await allowed(attributes), false, `may not ${JSON.stringify(attributes)}`);
});

/** The stack's kubeconfig, acting as the worker's service account (impersonation by the admin user). */
function impersonatingKubeconfig(dir: string): string {
  const config = YAML.parse(readFileSync(endpoints.kubeconfig, 'utf8')) as {
    users: { user: Record<string, unknown> }[];
  };
  const user = `system:serviceaccount:${workerServiceAccount.namespace}:${workerServiceAccount.name}`;
  for (const entry of config.users) entry.user.as = user;
  const path = join(dir, 'kubeconfig-as-worker.yaml');
  writeFileSync(path, YAML.stringify(config), { mode: 0o600 });
  return path;
}

test('the worker runs a whole rollout under these grants alone', { timeout: 240_000 }, async () => {
  const { config, apps, core } = kube();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const ns = await testNamespace('rbac-rollout');
  const dir = mkdtempSync(join(tmpdir(), 'cutover-rbac-'));
  const alerts = await startWebhookReceiver();
  let worker: WorkerProcess | undefined;
  try {
    await ensureCrds();
    // Everything a rollout reads or writes: a tracked ConfigMap and Secret (copied to -primary), an
    // HPA (a -primary HPA), a Secret-backed MetricTemplate, an AlertProvider, Events, the status.
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'podinfo-config' }, data: { color: 'blue' } },
    });
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 'podinfo-secret' }, stringData: { key: 'v1' } },
    });
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 'prom-auth' }, stringData: { token: 'not-checked-by-prometheus' } },
    });
    const deployment = podinfoDeployment('podinfo', ns.name, 1);
    const container = deployment.spec?.template.spec?.containers[0];
    if (container)
      container.envFrom = [
        { configMapRef: { name: 'podinfo-config' } },
        { secretRef: { name: 'podinfo-secret' } },
      ];
    await apps.createNamespacedDeployment({ namespace: ns.name, body: deployment });
    await config.makeApiClient(k8s.AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
      namespace: ns.name,
      body: {
        metadata: { name: 'podinfo' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
          minReplicas: 1,
          maxReplicas: 2,
        },
      },
    });
    const create = (plural: string, body: Record<string, unknown>) =>
      custom.createNamespacedCustomObject({
        group: 'flagger.app',
        version: 'v1beta1',
        namespace: ns.name,
        plural,
        body,
      });
    await create('metrictemplates', {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'MetricTemplate',
      metadata: { name: 'always-one' },
      spec: {
        provider: { type: 'prometheus', address: endpoints.prometheusUrl, secretRef: { name: 'prom-auth' } },
        query: 'vector(1)',
      },
    });
    await create('alertproviders', {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'AlertProvider',
      metadata: { name: 'chat' },
      spec: { type: 'slack', address: alerts.url('/alerts') },
    });
    const asWorker = impersonatingKubeconfig(dir);
    // The kubeconfig really acts as the service account: what the role does not grant is refused.
    const restricted = new k8s.KubeConfig();
    restricted.loadFromFile(asWorker);
    await assert.rejects(
      restricted.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: ns.name }),
      (error: unknown) => error instanceof k8s.ApiException && error.code === 403,
    );
    worker = await startWorkerProcess({
      namespace: ns.name,
      taskQueue: `rbac-${ns.name}`,
      extraArgs: ['--kubeconfig', asWorker],
    });
    await create(
      'canaries',
      canaryObject('podinfo', ns.name, {
        interval: '300ms',
        iterations: 2,
        autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' },
        metrics: [{ name: 'always-one', templateRef: { name: 'always-one' }, thresholdRange: { max: 2 } }],
        alerts: [{ name: 'chat', severity: 'info', providerRef: { name: 'chat' } }],
      }),
    );
    const phase = async () => String((await readCanaryStatus(ns.name, 'podinfo')).phase);
    await waitFor('the Canary to be Initialized', async () => (await phase()) === 'Initialized', 90_000);

    await apps.patchNamespacedDeployment(
      {
        name: 'podinfo',
        namespace: ns.name,
        body: { spec: { template: { metadata: { annotations: { rev: '2' } } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await waitFor('the rollout to end', async () => ['Succeeded', 'Failed'].includes(await phase()), 120_000);
    assert.equal(await phase(), 'Succeeded', worker.logs().slice(-3000));

    const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns.name });
    assert.equal(primary.spec?.template.metadata?.annotations?.rev, '2');
    await core.readNamespacedConfigMap({ name: 'podinfo-config-primary', namespace: ns.name });
    await core.readNamespacedSecret({ name: 'podinfo-secret-primary', namespace: ns.name });
    await config
      .makeApiClient(k8s.AutoscalingV2Api)
      .readNamespacedHorizontalPodAutoscaler({ name: 'podinfo-primary', namespace: ns.name });
    const messages = (await canaryEvents(ns.name, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.some((m) => m.startsWith('Promotion completed!')),
      messages.join('\n'),
    );
    assert.ok(alerts.callsTo('/alerts').length > 0, 'the alert went out');
    assert.doesNotMatch(worker.logs(), /forbidden|403/i, 'no call was refused');
  } finally {
    await worker?.stop();
    await alerts.close();
    await ns.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});

const promtool = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'promtool'))
  .find((path) => existsSync(path));

test(
  'the Prometheus config of docker-compose.yml is valid for promtool',
  { skip: promtool === undefined && 'promtool is not installed' },
  async () => {
    const { stdout } = await run(promtool ?? 'promtool', [
      'check',
      'config',
      join(deployDir, 'compose', 'prometheus.yml'),
    ]);
    assert.match(stdout, /SUCCESS/);
  },
);
