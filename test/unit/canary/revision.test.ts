import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalJson,
  computeRevision,
  hashHex,
  referencedConfigs,
  trackedConfigs,
  type TrackedConfigSource,
} from '../../../canary/revision.ts';

function template(image = 'ghcr.io/stefanprodan/podinfo:6.0.0') {
  return {
    metadata: { labels: { app: 'podinfo' } },
    spec: {
      initContainers: [{ name: 'init', envFrom: [{ secretRef: { name: 'init-secret' } }] }],
      containers: [
        {
          name: 'podinfod',
          image,
          env: [
            { name: 'A', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'a' } } },
            { name: 'B', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'b' } } },
            { name: 'C', value: 'plain' },
          ],
          envFrom: [{ configMapRef: { name: 'envfrom-cm' } }],
        },
      ],
      volumes: [
        { name: 'v1', configMap: { name: 'vol-cm' } },
        { name: 'v2', secret: { secretName: 'vol-secret' } },
        {
          name: 'v3',
          projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'proj-secret' } }] },
        },
        { name: 'v4', emptyDir: {} },
      ],
    },
  };
}

const podinfoConfig: TrackedConfigSource = {
  kind: 'ConfigMap',
  name: 'vol-cm',
  data: { 'app.yaml': 'x: 1' },
};

test('lists the ConfigMaps and Secrets of volumes, projections, env, envFrom and init containers', () => {
  assert.deepEqual(referencedConfigs(template().spec), {
    configMaps: ['env-cm', 'envfrom-cm', 'proj-cm', 'vol-cm'],
    secrets: ['env-secret', 'init-secret', 'proj-secret', 'vol-secret'],
  });
  assert.deepEqual(referencedConfigs(undefined), { configMaps: [], secrets: [] });
});

test('the same template gives the same revision whatever the key order', () => {
  const a = computeRevision(template(), [podinfoConfig]);
  const shuffled = JSON.parse(canonicalJson(template())) as ReturnType<typeof template>;
  const reordered = { spec: shuffled.spec, metadata: shuffled.metadata };
  assert.equal(computeRevision(reordered, [podinfoConfig]), a);
  assert.match(a, /^[0-9a-f]{16}$/);
});

test('a new image is a new revision', () => {
  assert.notEqual(computeRevision(template(), []), computeRevision(template('podinfo:6.0.1'), []));
});

test('replicas are not part of the revision: only the template is hashed', () => {
  const deployment = (replicas: number) => ({ replicas, template: template() });
  assert.equal(
    computeRevision(deployment(1).template, [podinfoConfig]),
    computeRevision(deployment(5).template, [podinfoConfig]),
  );
});

test('a change to a referenced ConfigMap is a new revision', () => {
  const changed = { ...podinfoConfig, data: { 'app.yaml': 'x: 2' } };
  assert.notEqual(computeRevision(template(), [podinfoConfig]), computeRevision(template(), [changed]));
  const binary: TrackedConfigSource = { ...podinfoConfig, binaryData: { blob: 'AAE=' } };
  assert.notEqual(computeRevision(template(), [podinfoConfig]), computeRevision(template(), [binary]));
});

test('ignores configs annotated config-tracking disabled, unreferenced ones and registry secrets', () => {
  const base = computeRevision(template(), []);
  const disabled: TrackedConfigSource = {
    ...podinfoConfig,
    annotations: { 'flagger.app/config-tracking': 'disabled' },
  };
  const unreferenced: TrackedConfigSource = { kind: 'ConfigMap', name: 'other', data: { a: 'b' } };
  const registry: TrackedConfigSource = {
    kind: 'Secret',
    name: 'vol-secret',
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': 'e30=' },
  };
  assert.equal(computeRevision(template(), [disabled, unreferenced, registry]), base);
});

test('a ConfigMap and a Secret of the same name are told apart', () => {
  const asSecret: TrackedConfigSource = { ...podinfoConfig, kind: 'Secret', name: 'vol-secret' };
  const asConfigMap: TrackedConfigSource = { ...podinfoConfig, name: 'vol-cm' };
  assert.deepEqual(Object.keys(trackedConfigs(template().spec, [asSecret, asConfigMap])), [
    'configmap/vol-cm',
    'secret/vol-secret',
  ]);
});

test('hashes with FNV-1a 64 over UTF-8 (known vectors)', () => {
  assert.equal(hashHex(''), 'cbf29ce484222325');
  assert.equal(hashHex('a'), 'af63dc4c8601ec8c');
  assert.equal(hashHex('foobar'), '85944171f73967e8');
  assert.notEqual(hashHex('é'), hashHex('e'));
});

test('canonical JSON drops undefined fields as JSON does', () => {
  assert.equal(canonicalJson({ b: 1, a: undefined, c: [undefined] }), '{"b":1,"c":[null]}');
});
