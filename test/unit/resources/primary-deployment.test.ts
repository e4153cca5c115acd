import { test } from 'node:test';
import assert from 'node:assert/strict';
import { managedByLabel } from '../../../canary/naming.ts';
import {
  primaryDeployment,
  promotionPatch,
  renameConfigReferences,
  trackedConfigNames,
} from '../../../resources/primary-deployment.ts';
import { InvalidTargetError, selectorLabel } from '../../../resources/selector-label.ts';
import { canary, target, tracked } from './fixtures.ts';

test('the primary selects and labels its pods <value>-primary, keeping the other labels', () => {
  const primary = primaryDeployment({ canary, target: target(), tracked });
  assert.equal(primary.metadata?.name, 'podinfo-primary');
  assert.deepEqual(primary.spec?.selector, { matchLabels: { app: 'podinfo-primary' } });
  assert.deepEqual(primary.spec?.template.metadata?.labels, { app: 'podinfo-primary', version: 'v1' });
  assert.deepEqual(primary.spec?.template.metadata?.annotations, { 'prometheus.io/scrape': 'true' });
  assert.deepEqual(primary.metadata?.labels, {
    app: 'podinfo-primary',
    team: 'web',
    [managedByLabel]: 'cutover',
  });
});

test('the primary is owned by the Canary as its controller', () => {
  const primary = primaryDeployment({ canary, target: target(), tracked });
  assert.deepEqual(primary.metadata?.ownerReferences, [
    {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      name: 'podinfo',
      uid: canary.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.equal(primary.metadata?.namespace, 'test');
  assert.equal(primary.metadata?.uid, undefined, 'nothing of the target identity is copied');
  assert.equal(primary.metadata?.resourceVersion, undefined);
});

test('the primary copies the rollout settings and replicas, not the last-applied annotation', () => {
  const primary = primaryDeployment({ canary, target: target(), tracked });
  assert.equal(primary.spec?.replicas, 2);
  assert.equal(primary.spec?.minReadySeconds, 5);
  assert.equal(primary.spec?.revisionHistoryLimit, 4);
  assert.equal(primary.spec?.progressDeadlineSeconds, 60);
  assert.deepEqual(primary.spec?.strategy, {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 },
  });
  assert.deepEqual(primary.metadata?.annotations, { 'example.com/owner': 'web-team' });
});

test('a target scaled to zero or without replicas gives a primary of one replica', () => {
  assert.equal(primaryDeployment({ canary, target: target({ replicas: 0 }), tracked }).spec?.replicas, 1);
  const noReplicas = target();
  delete noReplicas.spec?.replicas;
  assert.equal(primaryDeployment({ canary, target: noReplicas, tracked }).spec?.replicas, 1);
});

test('the selector label is the first of app, name, app.kubernetes.io/name', () => {
  assert.deepEqual(selectorLabel(target({ matchLabels: { name: 'web', 'app.kubernetes.io/name': 'x' } })), {
    key: 'name',
    value: 'web',
  });
  const primary = primaryDeployment({
    canary,
    target: target({ matchLabels: { 'app.kubernetes.io/name': 'web', tier: 'front' } }),
    tracked,
  });
  assert.deepEqual(primary.spec?.selector?.matchLabels, {
    'app.kubernetes.io/name': 'web-primary',
    tier: 'front',
  });
});

test('a target without a selector label is refused with the field and the fix', () => {
  assert.throws(
    () => primaryDeployment({ canary, target: target({ matchLabels: { tier: 'front' } }), tracked }),
    (error: unknown) =>
      error instanceof InvalidTargetError &&
      /spec\.selector\.matchLabels/.test(error.message) &&
      /Add one of them/.test(error.message),
  );
});

test('tracked ConfigMaps and Secrets are read from their -primary copies, everywhere a pod reads them', () => {
  const spec = primaryDeployment({ canary, target: target(), tracked }).spec?.template.spec;
  const container = spec?.containers[0];
  assert.equal(container?.env?.[0]?.valueFrom?.configMapKeyRef?.name, 'env-cm-primary');
  assert.equal(container?.env?.[1]?.valueFrom?.secretKeyRef?.name, 'env-secret-primary');
  assert.equal(
    container?.envFrom?.[0]?.configMapRef?.name,
    'untracked-cm',
    'untracked configs keep their name',
  );
  assert.equal(spec?.initContainers?.[0]?.envFrom?.[0]?.secretRef?.name, 'init-secret-primary');
  assert.equal(spec?.volumes?.[0]?.configMap?.name, 'vol-cm-primary');
  assert.equal(spec?.volumes?.[1]?.secret?.secretName, 'vol-secret-primary');
  assert.deepEqual(spec?.volumes?.[2]?.projected?.sources, [
    { configMap: { name: 'vol-cm-primary' } },
    { secret: { name: 'vol-secret-primary' } },
  ]);
  assert.deepEqual(spec?.imagePullSecrets, [{ name: 'registry' }], 'pull secrets are not configuration');
});

test('renaming leaves the target untouched', () => {
  const original = target();
  const before = JSON.stringify(original);
  renameConfigReferences(original.spec?.template.spec ?? { containers: [] }, tracked);
  primaryDeployment({ canary, target: original, tracked });
  assert.equal(JSON.stringify(original), before);
});

test('trackedConfigNames reads the status keys', () => {
  assert.deepEqual(trackedConfigNames({ 'secret/b': '1', 'configmap/z': '2', 'configmap/a': '3' }), {
    configMaps: ['a', 'z'],
    secrets: ['b'],
  });
});

test('a promotion replaces the template and rollout settings wholesale, and replicas only when asked', () => {
  const ops = promotionPatch({ target: target(), tracked });
  assert.deepEqual(
    ops.map((o) => o.path),
    [
      '/spec/template',
      '/spec/minReadySeconds',
      '/spec/strategy',
      '/spec/revisionHistoryLimit',
      '/spec/progressDeadlineSeconds',
    ],
  );
  assert.ok(
    ops.every((o) => o.op === 'add'),
    'add replaces a whole value, so removed fields go too',
  );
  const template = ops[0]?.value as { metadata: { labels: Record<string, string> } };
  assert.equal(template.metadata.labels.app, 'podinfo-primary');
  const withReplicas = promotionPatch({ target: target(), tracked, replicas: 3 });
  assert.deepEqual(withReplicas.at(-1), { op: 'add', path: '/spec/replicas', value: 3 });
});
