// Static checks of the Helm chart that need no helm binary: its metadata follows package.json, it
// serves deploy/'s CRDs, its defaults are the documented ones, the schema declares every value, and the
// variables it sets are ones the worker reads. test/integration/helm-chart.test.ts renders and installs it.
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { deployDir, readYamlDocuments, repoRoot } from './manifests.ts';

const chartDir = join(repoRoot, 'charts', 'cutover');
const readYaml = (path: string): unknown => YAML.parse(readFileSync(path, 'utf8'));
const chart = readYaml(join(chartDir, 'Chart.yaml')) as Record<string, unknown>;
const values = readYaml(join(chartDir, 'values.yaml')) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as JsonSchema;
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  $ref?: string;
  definitions?: Record<string, JsonSchema>;
}

/** Follows a local `#/definitions/x` reference. */
function resolve(node: JsonSchema): JsonSchema {
  if (node.$ref === undefined) return node;
  const name = node.$ref.replace('#/definitions/', '');
  const target = schema.definitions?.[name];
  assert.ok(target, `values.schema.json defines ${name}`);
  return target;
}

/** Every value path of values.yaml that the schema does not declare (free-form maps excepted). */
function undeclared(value: unknown, node: JsonSchema, path: string): string[] {
  const resolved = resolve(node);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  if (resolved.properties === undefined) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const declared = resolved.properties?.[key];
    if (declared === undefined) return [`${path}${key}`];
    return undeclared(child, declared, `${path}${key}.`);
  });
}

function at(path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], values);
}

test("the chart's version and appVersion follow package.json, and it needs Kubernetes 1.25 or newer", () => {
  assert.equal(chart.apiVersion, 'v2');
  assert.equal(chart.name, 'cutover');
  assert.equal(chart.appVersion, packageJson.version);
  assert.match(String(chart.version), /^\d+\.\d+\.\d+$/);
  assert.equal(chart.kubeVersion, '>=1.25.0-0');
});

test("the chart grants the worker deploy/base's rules, read through a link", () => {
  const link = join(chartDir, 'files', 'worker-rbac.yaml');
  assert.ok(lstatSync(link).isSymbolicLink(), 'charts/cutover/files/worker-rbac.yaml is a link, not a copy');
  assert.equal(realpathSync(link), realpathSync(join(deployDir, 'base', 'rbac.yaml')));
  const roles = readYamlDocuments(link).filter((doc) => (doc as { kind?: string }).kind === 'ClusterRole');
  assert.equal(roles.length, 1, 'one ClusterRole, whose rules the chart uses');
});

test('the chart serves deploy/crds through a link, one CustomResourceDefinition a file', () => {
  const link = join(chartDir, 'files', 'crds');
  assert.ok(
    lstatSync(link).isSymbolicLink(),
    'charts/cutover/files/crds is a link, not a copy that can drift',
  );
  assert.equal(realpathSync(link), realpathSync(join(deployDir, 'crds')));
  const files = readdirSync(link).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 3);
  for (const file of files) {
    const docs = readYamlDocuments(join(link, file)) as { kind?: string; metadata?: { name?: string } }[];
    assert.equal(docs.length, 1, `${file} holds one document (the chart's template reads one a file)`);
    assert.equal(docs[0]?.kind, 'CustomResourceDefinition', file);
    assert.equal(`${docs[0]?.metadata?.name}.yaml`, file, 'each file is named after its CRD');
  }
});

test('the defaults: two replicas, a PodDisruptionBudget, CRDs kept, probes on /healthz and /readyz, restricted security', () => {
  assert.equal(at('replicas'), 2);
  assert.equal(at('podDisruptionBudget.enabled'), true);
  assert.equal(at('podDisruptionBudget.maxUnavailable'), 1);
  assert.equal(at('crds.install'), true);
  assert.equal(at('crds.keep'), true);
  assert.equal(at('startupProbe.httpGet.path'), '/healthz');
  assert.equal(at('livenessProbe.httpGet.path'), '/healthz');
  assert.equal(at('readinessProbe.httpGet.path'), '/readyz');
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
    assert.equal(at(`${probe}.httpGet.port`), 'http');
  assert.equal(at('metrics.port'), 8080);
  assert.equal(at('metrics.serviceMonitor.enabled'), false);
  assert.deepEqual(at('podSecurityContext'), {
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    fsGroup: 1000,
    seccompProfile: { type: 'RuntimeDefault' },
  });
  assert.deepEqual(at('containerSecurityContext'), {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  });
  assert.equal(at('watchNamespace'), '');
  assert.equal(at('temporal.apiKey.secretName'), '', 'no Secret is required by default');
});

test('values.schema.json declares every value of values.yaml and refuses unknown top-level ones', () => {
  assert.deepEqual(undeclared(values, schema, ''), []);
  assert.equal(
    schema.additionalProperties,
    false,
    'a misspelt value fails `helm install` instead of being ignored',
  );
});

test('every environment variable the chart sets is one the worker reads', () => {
  const template = readFileSync(join(chartDir, 'templates', 'deployment.yaml'), 'utf8');
  const names = [...template.matchAll(/- name: ([A-Z][A-Z0-9_]+)/g)].map((m) => m[1] ?? '');
  assert.ok(names.length >= 10, `found ${names.join(', ')}`);
  const workerSources = readdirSync(join(repoRoot, 'worker'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(repoRoot, 'worker', f), 'utf8'))
    .join('\n');
  for (const name of new Set(names))
    assert.match(workerSources, new RegExp(`\\b${name}\\b`), `worker/ reads ${name}`);
});
