// The Kubernetes activities against the real local cluster: what a user sees after each of them —
// the generated objects, their selectors, ports and owners, the pods the Services serve, the Canary's
// status and events — and that running any of them twice changes nothing more.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { applyCrds } from '../../client/crds.ts';
import { ApplicationFailure } from '@temporalio/common';
import { createCanaryStatusActivities } from '../../activities/canary-status.ts';
import { createKubernetesActivities, type CanaryObjectsInput } from '../../activities/kubernetes.ts';
import { waitFor } from '../../stack/processes.ts';
import { canaryEvents, canaryObject, createCanary, readCanaryStatus } from '../support/canaries.ts';
import {
  kube,
  podinfoDeployment,
  readServiceMap,
  testNamespace,
  waitForDeploymentAvailable,
  waitForServiceEndpoints,
} from '../support/cluster.ts';

const { config, core, apps } = kube();
const autoscaling = config.makeApiClient(k8s.AutoscalingV2Api);
const activities = createKubernetesActivities(config);

let namespace: { name: string; remove: () => Promise<void> };
let ns = '';
let input: CanaryObjectsInput;

/** Applies deploy/crds server-side (the raw YAML, untouched by any typed model) and waits for Established. */
function target(): k8s.V1Deployment {
  const deployment = podinfoDeployment('podinfo', ns, 2);
  const container = deployment.spec?.template.spec?.containers[0];
  if (container) {
    container.env = [
      { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'podinfo-config', key: 'color' } } },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'podinfo-token', key: 'token' } } },
    ];
    container.envFrom = [{ configMapRef: { name: 'podinfo-untracked' } }];
  }
  return deployment;
}

function ownerUids(meta: k8s.V1ObjectMeta | undefined): (string | undefined)[] {
  return (meta?.ownerReferences ?? []).map((o) =>
    o.kind === 'Canary' && o.controller ? o.uid : `other:${o.uid}`,
  );
}

async function resourceVersions(): Promise<Record<string, string | undefined>> {
  return {
    primary: (await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns })).metadata
      ?.resourceVersion,
    primaryService: (await core.readNamespacedService({ name: 'podinfo-primary', namespace: ns })).metadata
      ?.resourceVersion,
    canaryService: (await core.readNamespacedService({ name: 'podinfo-canary', namespace: ns })).metadata
      ?.resourceVersion,
    hpa: (
      await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'podinfo-hpa-primary', namespace: ns })
    ).metadata?.resourceVersion,
    configCopy: (await core.readNamespacedConfigMap({ name: 'podinfo-config-primary', namespace: ns }))
      .metadata?.resourceVersion,
    secretCopy: (await core.readNamespacedSecret({ name: 'podinfo-token-primary', namespace: ns })).metadata
      ?.resourceVersion,
  };
}

/** The pods answering behind a Service port, as served on this machine (podinfo's `/env` has HOSTNAME). */
async function servedPods(service: string, count: number): Promise<string[]> {
  const entry = await waitForServiceEndpoints(service, ns, 'http', count);
  const names: string[] = [];
  for (const endpoint of entry.endpoints) {
    const env = (await (await fetch(`http://${endpoint}/env`)).json()) as string[];
    names.push(env.find((e) => e.startsWith('HOSTNAME='))?.slice('HOSTNAME='.length) ?? '');
  }
  return names.sort();
}

async function expectFailure(call: Promise<unknown>, type: string, pattern: RegExp): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, pattern);
    return true;
  });
}

before(async () => {
  await applyCrds(config);
  namespace = await testNamespace('kube-activities');
  ns = namespace.name;
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'podinfo-config' }, data: { color: 'blue' } },
  });
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: {
      metadata: { name: 'podinfo-untracked', annotations: { 'flagger.app/config-tracking': 'disabled' } },
      data: { LEVEL: 'debug' },
    },
  });
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'podinfo-token' }, type: 'Opaque', stringData: { token: 's3cret' } },
  });
  await apps.createNamespacedDeployment({ namespace: ns, body: target() });
  await autoscaling.createNamespacedHorizontalPodAutoscaler({
    namespace: ns,
    body: {
      metadata: { name: 'podinfo-hpa' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
        minReplicas: 2,
        maxReplicas: 4,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 90 } },
          },
        ],
      },
    },
  });
  // The user's own apex Service, made before Cutover: it must be taken over, not replaced.
  await core.createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name: 'podinfo', labels: { team: 'web' } },
      spec: { selector: { app: 'podinfo' }, ports: [{ name: 'web', port: 80, targetPort: 9898 }] },
    },
  });
  const { canary, uid } = await createCanary(
    canaryObject('podinfo', ns, {
      autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo-hpa' },
    }),
  );
  input = {
    canary: { name: canary.name, namespace: ns, uid },
    target: canary.target.name,
    service: canary.service,
    ...(canary.autoscaler ? { autoscaler: canary.autoscaler.name } : {}),
  };
  await waitForDeploymentAvailable(ns, 'podinfo');
});

after(async () => {
  await namespace?.remove();
});

test('initializeCanaryObjects creates the primary from the target, with its selector label and configs renamed', async () => {
  const result = await activities.initializeCanaryObjects(input);
  assert.deepEqual(result, {
    primary: 'podinfo-primary',
    primaryCreated: true,
    services: { primary: 'podinfo-primary', canary: 'podinfo-canary' },
    autoscaler: 'podinfo-hpa-primary',
    configs: ['configmap/podinfo-config', 'secret/podinfo-token'],
    selectorLabel: { key: 'app', value: 'podinfo' },
  });

  const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
  assert.deepEqual(primary.spec?.selector.matchLabels, { app: 'podinfo-primary' });
  assert.deepEqual(primary.spec?.template.metadata?.labels, { app: 'podinfo-primary' });
  assert.equal(primary.spec?.replicas, 2);
  assert.equal(primary.spec?.progressDeadlineSeconds, 60);
  assert.deepEqual(ownerUids(primary.metadata), [input.canary.uid]);
  assert.equal(primary.metadata?.labels?.['app.kubernetes.io/managed-by'], 'cutover');
  const container = primary.spec?.template.spec?.containers[0];
  assert.equal(container?.image, 'ghcr.io/stefanprodan/podinfo:6.9.2');
  assert.equal(container?.env?.[0]?.valueFrom?.configMapKeyRef?.name, 'podinfo-config-primary');
  assert.equal(container?.env?.[1]?.valueFrom?.secretKeyRef?.name, 'podinfo-token-primary');
  assert.equal(
    container?.envFrom?.[0]?.configMapRef?.name,
    'podinfo-untracked',
    'tracking disabled: not copied',
  );

  const configCopy = await core.readNamespacedConfigMap({ name: 'podinfo-config-primary', namespace: ns });
  assert.deepEqual(configCopy.data, { color: 'blue' });
  assert.deepEqual(ownerUids(configCopy.metadata), [input.canary.uid]);
  const secretCopy = await core.readNamespacedSecret({ name: 'podinfo-token-primary', namespace: ns });
  assert.equal(Buffer.from(secretCopy.data?.token ?? '', 'base64').toString(), 's3cret');
  await assert.rejects(core.readNamespacedConfigMap({ name: 'podinfo-untracked-primary', namespace: ns }));

  const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({
    name: 'podinfo-hpa-primary',
    namespace: ns,
  });
  assert.deepEqual(
    { ...hpa.spec?.scaleTargetRef },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'podinfo-primary',
    },
  );
  assert.equal(hpa.spec?.minReplicas, 2);
  assert.equal(hpa.spec?.maxReplicas, 4);
  assert.equal(hpa.spec?.metrics?.[0]?.resource?.target.averageUtilization, 90);
  assert.deepEqual(ownerUids(hpa.metadata), [input.canary.uid]);
});

test('the -primary and -canary Services select primary and target pods, with the discovered ports', async () => {
  const primarySvc = await core.readNamespacedService({ name: 'podinfo-primary', namespace: ns });
  const canarySvc = await core.readNamespacedService({ name: 'podinfo-canary', namespace: ns });
  assert.deepEqual(primarySvc.spec?.selector, { app: 'podinfo-primary' });
  assert.deepEqual(canarySvc.spec?.selector, { app: 'podinfo' });
  for (const svc of [primarySvc, canarySvc]) {
    assert.equal(svc.spec?.type, 'ClusterIP');
    assert.deepEqual(ownerUids(svc.metadata), [input.canary.uid]);
    assert.deepEqual(
      svc.spec?.ports?.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort })),
      [
        { name: 'http', port: 9898, targetPort: 'http' },
        { name: 'http-metrics', port: 9797, targetPort: 9797 },
      ],
    );
  }

  await waitForDeploymentAvailable(ns, 'podinfo-primary');
  const primaryPods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=podinfo-primary' });
  const targetPods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=podinfo' });
  assert.deepEqual(
    await servedPods('podinfo-primary', 2),
    primaryPods.items.map((p) => p.metadata?.name).sort(),
  );
  assert.deepEqual(
    await servedPods('podinfo-canary', 2),
    targetPods.items.map((p) => p.metadata?.name).sort(),
  );
});

test('running initializeCanaryObjects again changes nothing', async () => {
  const before = await resourceVersions();
  const again = await activities.initializeCanaryObjects(input);
  assert.equal(again.primaryCreated, false);
  assert.deepEqual(await resourceVersions(), before);
});

test('a second Canary on the same target is refused with the owning Canary and the fix, and changes nothing', async () => {
  const before = await resourceVersions();
  await expectFailure(
    activities.initializeCanaryObjects({
      ...input,
      canary: { name: 'podinfo-again', namespace: ns, uid: '00000000-0000-4000-8000-000000000002' },
    }),
    'InvalidTarget',
    new RegExp(
      `spec\\.targetRef: .* already rolled out by Canary ${ns}/${input.canary.name} .*delete one of the two Canaries`,
    ),
  );
  assert.deepEqual(await resourceVersions(), before);
});

test('checkDeploymentReady judges the primary like kubectl rollout status', async () => {
  const ready = await activities.checkDeploymentReady({ namespace: ns, name: 'podinfo-primary' });
  assert.deepEqual(ready, {
    ready: true,
    message: `deployment podinfo-primary.${ns} successfully rolled out`,
    progressDeadlineExceeded: false,
    replicas: 2,
    availableReplicas: 2,
  });
  await expectFailure(
    activities.checkDeploymentReady({ namespace: ns, name: 'missing' }),
    'KubernetesNotFound',
    /read Deployment .*\/missing.*404/,
  );
});

test('pointApexAtPrimary takes over the user\u2019s apex Service: selector and ports, remembered, never owned', async () => {
  const first = await activities.pointApexAtPrimary(input);
  assert.deepEqual(first, { service: 'podinfo', takenOver: true });
  const apex = await core.readNamespacedService({ name: 'podinfo', namespace: ns });
  assert.deepEqual(apex.spec?.selector, { app: 'podinfo-primary' });
  assert.deepEqual(
    apex.spec?.ports?.map((p) => [p.name, p.port, p.targetPort]),
    [
      ['http', 9898, 'http'],
      ['http-metrics', 9797, 9797],
    ],
  );
  assert.equal(apex.metadata?.labels?.team, 'web', 'the rest of the user\u2019s Service is left alone');
  assert.deepEqual(
    ownerUids(apex.metadata),
    [],
    'deleting the Canary must not delete the user\u2019s Service',
  );
  const remembered = JSON.parse(apex.metadata?.annotations?.['cutover.io/apex-before-takeover'] ?? '{}') as {
    selector: Record<string, string>;
  };
  assert.deepEqual(remembered.selector, { app: 'podinfo' });

  const primaryPods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=podinfo-primary' });
  assert.deepEqual(await servedPods('podinfo', 2), primaryPods.items.map((p) => p.metadata?.name).sort());

  await activities.pointApexAtPrimary(input);
  const again = await core.readNamespacedService({ name: 'podinfo', namespace: ns });
  assert.equal(
    again.metadata?.resourceVersion,
    apex.metadata?.resourceVersion,
    'a second call changes nothing',
  );
});

test('scaleDeployment scales the target to zero, scaleUpCanary brings it back to the primary HPA minimum', async () => {
  assert.deepEqual(await activities.scaleDeployment({ namespace: ns, name: 'podinfo', replicas: 0 }), {
    replicas: 0,
  });
  await waitFor(
    'the target to have no pods',
    async () =>
      (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=podinfo' })).items.length === 0,
    60_000,
  );
  assert.equal((await activities.checkDeploymentReady({ namespace: ns, name: 'podinfo' })).ready, true);

  assert.deepEqual(
    await activities.scaleUpCanary({ namespace: ns, target: 'podinfo', autoscaler: 'podinfo-hpa' }),
    {
      replicas: 2,
    },
  );
  assert.deepEqual(
    await activities.scaleUpCanary({ namespace: ns, target: 'podinfo', autoscaler: 'podinfo-hpa' }),
    {
      replicas: 2,
    },
  );
  await waitFor(
    'the target to be ready again',
    async () => (await activities.checkDeploymentReady({ namespace: ns, name: 'podinfo' })).ready,
    60_000,
  );
});

test('currentRevision changes with the template and with a tracked ConfigMap, not with replicas', async () => {
  const first = await activities.currentRevision({ namespace: ns, target: 'podinfo' });
  assert.deepEqual(Object.keys(first.trackedConfigs), ['configmap/podinfo-config', 'secret/podinfo-token']);
  await activities.scaleDeployment({ namespace: ns, name: 'podinfo', replicas: 3 });
  assert.deepEqual(await activities.currentRevision({ namespace: ns, target: 'podinfo' }), first);
  await activities.scaleDeployment({ namespace: ns, name: 'podinfo', replicas: 2 });

  await core.patchNamespacedConfigMap(
    { name: 'podinfo-config', namespace: ns, body: { data: { color: 'green' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const configChanged = await activities.currentRevision({ namespace: ns, target: 'podinfo' });
  assert.notEqual(configChanged.revision, first.revision);
  assert.notEqual(
    configChanged.trackedConfigs['configmap/podinfo-config'],
    first.trackedConfigs['configmap/podinfo-config'],
  );
  assert.equal(
    configChanged.trackedConfigs['secret/podinfo-token'],
    first.trackedConfigs['secret/podinfo-token'],
  );
});

test('promoteCanary copies the analysed template and configs to the primary, and refuses a template that changed since', async () => {
  const green = target();
  const container = green.spec?.template.spec?.containers[0];
  if (container) container.command = [...(container.command ?? []), '--ui-message=green'];
  await apps.patchNamespacedDeployment(
    { name: 'podinfo', namespace: ns, body: { spec: { template: green.spec?.template } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const { revision } = await activities.currentRevision({ namespace: ns, target: 'podinfo' });

  const stale = await activities.promoteCanary({
    canary: input.canary,
    target: 'podinfo',
    revision: 'an-older-one',
    autoscaler: 'podinfo-hpa',
  });
  assert.equal(stale.matchesExpected, false);
  assert.equal(stale.revision, revision);
  const untouched = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
  assert.ok(
    !untouched.spec?.template.spec?.containers[0]?.command?.includes('--ui-message=green'),
    'a revision nobody analysed is never copied to the primary',
  );

  const promoted = await activities.promoteCanary({
    canary: input.canary,
    target: 'podinfo',
    revision,
    autoscaler: 'podinfo-hpa',
  });
  assert.deepEqual(promoted, { ...stale, matchesExpected: true });
  const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
  assert.ok(primary.spec?.template.spec?.containers[0]?.command?.includes('--ui-message=green'));
  assert.deepEqual(primary.spec?.selector.matchLabels, { app: 'podinfo-primary' });
  assert.equal(primary.spec?.template.metadata?.labels?.app, 'podinfo-primary');
  assert.equal(
    primary.spec?.template.spec?.containers[0]?.env?.[0]?.valueFrom?.configMapKeyRef?.name,
    'podinfo-config-primary',
  );
  const configCopy = await core.readNamespacedConfigMap({ name: 'podinfo-config-primary', namespace: ns });
  assert.deepEqual(configCopy.data, { color: 'green' });

  await waitFor(
    'the promoted primary to be ready',
    async () => (await activities.checkDeploymentReady({ namespace: ns, name: 'podinfo-primary' })).ready,
    60_000,
  );
  await waitFor(
    'the apex Service to serve only the promoted revision',
    async () => {
      const endpoints = readServiceMap()[`podinfo.${ns}`]?.http?.endpoints ?? [];
      if (endpoints.length !== 2) return false;
      const answers = await Promise.all(
        endpoints.map(
          async (e) => ((await (await fetch(`http://${e}/`)).json()) as { message: string }).message,
        ),
      );
      return answers.every((m) => m === 'green');
    },
    60_000,
  );
});

test('reportProgress writes the status and the Promoted condition, and one Event per key however often it runs', async () => {
  const report = {
    canary: input.canary,
    status: {
      phase: 'Progressing' as const,
      failedChecks: 1,
      iterations: 2,
      canaryWeight: 0,
      lastAppliedSpec: 'rev-b',
      trackedConfigs: { 'configmap/a': '1', 'configmap/b': '2' },
    },
    events: [
      { key: 'wf-1/run-1/7', type: 'Normal' as const, message: 'Advance podinfo.ns canary iteration 2/3' },
    ],
  };
  assert.deepEqual(await activities.reportProgress(report), {
    found: true,
    phaseChanged: true,
    eventsCreated: 1,
  });
  const first = await readCanaryStatus(ns, 'podinfo');
  assert.deepEqual(await activities.reportProgress(report), {
    found: true,
    phaseChanged: false,
    eventsCreated: 0,
  });
  const second = await readCanaryStatus(ns, 'podinfo');
  assert.deepEqual(second, first, 'a retried report changes nothing');

  assert.equal(first.phase, 'Progressing');
  assert.equal(first.failedChecks, 1);
  assert.equal(first.iterations, 2);
  assert.equal(first.lastAppliedSpec, 'rev-b');
  assert.match(String(first.lastTransitionTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const conditions = first.conditions as { type: string; status: string; reason: string; message: string }[];
  assert.deepEqual(
    conditions.map((c) => [c.type, c.status, c.reason, c.message]),
    [['Promoted', 'Unknown', 'Progressing', 'New revision detected, progressing canary analysis.']],
  );
  const events = await canaryEvents(ns, 'podinfo');
  assert.deepEqual(events, [
    { type: 'Normal', reason: 'Synced', message: 'Advance podinfo.ns canary iteration 2/3' },
  ]);
  const listed = await core.listNamespacedEvent({
    namespace: ns,
    fieldSelector: 'involvedObject.kind=Canary',
  });
  assert.equal(listed.items[0]?.source?.component, 'cutover');
  assert.equal(listed.items[0]?.involvedObject.uid, input.canary.uid);

  await activities.reportProgress({
    canary: input.canary,
    status: { phase: 'Succeeded', lastPromotedSpec: 'rev-b', trackedConfigs: { 'configmap/a': '3' } },
  });
  const done = await readCanaryStatus(ns, 'podinfo');
  assert.equal(done.phase, 'Succeeded');
  assert.deepEqual(done.trackedConfigs, { 'configmap/a': '3' }, 'configs no longer tracked are removed');
  assert.equal(done.iterations, 2, 'fields not given are kept');
  const promoted = (done.conditions as { status: string; reason: string }[])[0];
  assert.deepEqual([promoted?.status, promoted?.reason], ['True', 'Succeeded']);
});

test('a status write that starts from a lagging informer copy is refused by its resourceVersion and retried from a fresh read', async () => {
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const path = {
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: ns,
    plural: 'canaries',
    name: 'podinfo',
  };
  const stale = (await custom.getNamespacedCustomObject(path)) as Record<string, unknown>;
  // Someone writes after the copy was taken: the copy now lags.
  await createCanaryStatusActivities(config).reportProgress({
    canary: input.canary,
    status: { phase: 'Progressing', iterations: 1, failedChecks: 0 },
  });
  let asked = 0;
  const cachedCanary = (namespace: string, name: string) => {
    asked++;
    return namespace === ns && name === 'podinfo' ? stale : undefined;
  };
  const withCache = createCanaryStatusActivities(config, { cachedCanary });
  await withCache.reportProgress({
    canary: input.canary,
    status: { phase: 'Progressing', iterations: 3, failedChecks: 2 },
  });
  assert.equal(asked, 1, 'the copy is asked once; the retry reads the API server');
  const status = await readCanaryStatus(ns, 'podinfo');
  assert.deepEqual([status.iterations, status.failedChecks], [3, 2]);
  // A fresh copy is written from without a read.
  const fresh = (await custom.getNamespacedCustomObject(path)) as Record<string, unknown>;
  const fromFresh = createCanaryStatusActivities(config, { cachedCanary: () => fresh });
  await fromFresh.reportProgress({ canary: input.canary, status: { phase: 'Progressing', iterations: 4 } });
  assert.equal((await readCanaryStatus(ns, 'podinfo')).iterations, 4);
});

test('reportInvalidCanary says what to fix in the status and a Warning event, once', async () => {
  const message = 'spec.service.port is missing. Add service: {port: <the port your app listens on>}.';
  await activities.reportInvalidCanary({ canary: input.canary, message });
  await activities.reportInvalidCanary({ canary: input.canary, message });
  const status = await readCanaryStatus(ns, 'podinfo');
  assert.equal(status.phase, 'Failed');
  const condition = (status.conditions as { status: string; reason: string; message: string }[])[0];
  assert.deepEqual([condition?.status, condition?.message], ['False', message]);
  const warnings = (await canaryEvents(ns, 'podinfo')).filter((e) => e.type === 'Warning');
  assert.deepEqual(warnings, [{ type: 'Warning', reason: 'Synced', message }]);
});

test('readCanary returns the stored object, or null; a report for a gone Canary writes nothing', async () => {
  const raw = await activities.readCanary({ namespace: ns, name: 'podinfo' });
  assert.equal((raw?.metadata as { uid?: string } | undefined)?.uid, input.canary.uid);
  assert.equal(await activities.readCanary({ namespace: ns, name: 'nobody' }), null);
  const ghost = { ...input.canary, name: 'nobody' };
  assert.deepEqual(
    await activities.reportProgress({
      canary: ghost,
      status: { phase: 'Failed' },
      events: [{ key: 'x', type: 'Warning', message: 'x' }],
    }),
    { found: false, phaseChanged: false, eventsCreated: 0 },
  );
});

test('a target without a selector label is refused with the field and the fix, and nothing is created', async () => {
  const odd = podinfoDeployment('odd', ns, 1);
  if (odd.spec && odd.spec.template.metadata) {
    odd.spec.selector = { matchLabels: { tier: 'odd' } };
    odd.spec.template.metadata.labels = { tier: 'odd' };
  }
  await apps.createNamespacedDeployment({ namespace: ns, body: odd });
  await expectFailure(
    activities.initializeCanaryObjects({
      ...input,
      target: 'odd',
      service: { ...input.service, name: 'odd' },
      autoscaler: undefined,
    }),
    'InvalidTarget',
    /spec\.selector\.matchLabels/,
  );
  await assert.rejects(apps.readNamespacedDeployment({ name: 'odd-primary', namespace: ns }));
});

test('deleting the Canary removes what Cutover generated and leaves the taken-over apex Service', async () => {
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  await custom.deleteNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: ns,
    plural: 'canaries',
    name: 'podinfo',
  });
  await waitFor(
    'the generated objects to be garbage-collected',
    async () => {
      const gone = await Promise.all([
        apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns }).then(
          () => false,
          () => true,
        ),
        core.readNamespacedService({ name: 'podinfo-canary', namespace: ns }).then(
          () => false,
          () => true,
        ),
        core.readNamespacedConfigMap({ name: 'podinfo-config-primary', namespace: ns }).then(
          () => false,
          () => true,
        ),
      ]);
      return gone.every(Boolean);
    },
    60_000,
  );
  await core.readNamespacedService({ name: 'podinfo', namespace: ns });
  await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns });
});
