import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; jsonPath: string }[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}
interface SchemaNode {
  type?: string;
  pattern?: string;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

function readCrd(file: string): Crd {
  return parse(readFileSync(new URL(`../../../deploy/crds/${file}`, import.meta.url), 'utf8'));
}

function at(node: SchemaNode, path: string): SchemaNode {
  let current = node;
  for (const key of path.split('.')) {
    const next = key === '[]' ? current.items : current.properties?.[key];
    assert.ok(next, `schema has no ${path} (stopped at ${key})`);
    current = next;
  }
  return current;
}

for (const [file, kind] of [
  ['canaries.flagger.app.yaml', 'Canary'],
  ['metrictemplates.flagger.app.yaml', 'MetricTemplate'],
  ['alertproviders.flagger.app.yaml', 'AlertProvider'],
] as const) {
  test(`serves ${kind} as flagger.app/v1beta1 with a status subresource`, () => {
    const crd = readCrd(file);
    assert.equal(crd.metadata.name, file.replace(/\.yaml$/, ''));
    assert.equal(crd.spec.group, 'flagger.app');
    assert.equal(crd.spec.names.kind, kind);
    const [version] = crd.spec.versions;
    assert.equal(version?.name, 'v1beta1');
    assert.ok(version?.served && version.storage);
    assert.deepEqual(version.subresources?.status, {});
    assert.equal(at(version.schema.openAPIV3Schema, 'spec')['x-kubernetes-preserve-unknown-fields'], true);
  });
}

test('the Canary CRD shows Status, Weight and LastTransitionTime like Flagger\u2019s', () => {
  const columns = readCrd('canaries.flagger.app.yaml').spec.versions[0]?.additionalPrinterColumns ?? [];
  const byName = Object.fromEntries(columns.map((c) => [c.name, c.jsonPath]));
  assert.equal(byName.Status, '.status.phase');
  assert.equal(byName.Weight, '.status.canaryWeight');
  assert.equal(byName.LastTransitionTime, '.status.lastTransitionTime');
});

test('the Canary CRD declares the fields Cutover reads, and admits sub-second intervals', () => {
  const schema = readCrd('canaries.flagger.app.yaml').spec.versions[0]!.schema.openAPIV3Schema;
  for (const path of [
    'spec.targetRef.name',
    'spec.autoscalerRef.name',
    'spec.service.portDiscovery',
    'spec.analysis.iterations',
    'spec.analysis.metrics.[].thresholdRange.min',
    'spec.analysis.metrics.[].templateRef.namespace',
    'spec.analysis.webhooks.[].muteAlert',
    'spec.analysis.alerts.[].providerRef.name',
    'status.trackedConfigs',
    'status.conditions.[].reason',
  ]) {
    at(schema, path);
  }
  const pattern = new RegExp(at(schema, 'spec.analysis.interval').pattern ?? '');
  for (const interval of ['1m', '30s', '1m30s', '500ms']) assert.match(interval, pattern);
});
