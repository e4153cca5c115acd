// The Grafana dashboard (deploy/grafana/cutover-dashboard.json; the chart ships it as a ConfigMap) against
// a real `cutover worker` process: after it has promoted one revision and rolled back another, with a
// MetricTemplate check, every metric the dashboard's queries and variables read is one that its /metrics
// or its SDK metrics port serves with at least one series. The dashboard is Grafana dashboard JSON, and the
// real Prometheus accepts every query (with Grafana's variables filled in).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../../stack/processes.ts';
import { freeLocalPort } from '../../stack/tcp-proxy.ts';
import { repoRoot } from '../../stack/tools.ts';
import { canaryObject, createCanary, readCanaryStatus } from '../support/canaries.ts';
import { endpoints, kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { grafanaVariableMetricNames, promqlMetricNames } from '../support/promql-metric-names.ts';
import { releasePodinfo } from '../support/podinfo-rollout.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { WorkerProcess } from '../support/worker-process.ts';

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface Variable {
  type: string;
  name: string;
  query?: string | { query?: string };
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

const dashboardFile = join(repoRoot, 'deploy', 'grafana', 'cutover-dashboard.json');
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;
const panels = (dashboard.panels ?? []).filter((panel) => panel.type !== 'row');
const queries = panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title ?? '?', expr: target.expr ?? '' })),
);
const variables = dashboard.templating?.list ?? [];
const variableQuery = (variable: Variable): string =>
  typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');

let namespace: { name: string; remove: () => Promise<void> };
let worker: WorkerProcess;
let sdkMetricsUrl = '';
/** Metric name → the exposition it came from, for every name with at least one sample. */
const exported = new Map<string, string>();

/** The names of the samples of a Prometheus text exposition (comments and blank lines skipped). */
function sampleNames(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '')
    .filter((name) => name !== '');
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200, `GET ${url}`);
  return response.text();
}

async function phase(ns: string): Promise<unknown> {
  return (await readCanaryStatus(ns, 'podinfo')).phase;
}

function answerCheck(min: number): Record<string, unknown> {
  return { name: 'answer', templateRef: { name: 'answer' }, thresholdRange: { min }, interval: '1m' };
}

before(async () => {
  namespace = await testNamespace('dashboard');
  const ns = namespace.name;
  const sdkPort = await freeLocalPort();
  sdkMetricsUrl = `http://127.0.0.1:${sdkPort}/metrics`;
  worker = await startWorkerProcess({
    namespace: ns,
    taskQueue: `dashboard-${process.pid}`,
    extraArgs: ['--sdk-metrics-port', String(sdkPort)],
  });
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  // A check whose value is known (42), so that flagger_canary_metric_analysis has a series and the
  // second revision fails it.
  await custom.createNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: ns,
    plural: 'metrictemplates',
    body: {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'MetricTemplate',
      metadata: { name: 'answer', namespace: ns },
      spec: { provider: { type: 'prometheus', address: endpoints.prometheusUrl }, query: 'vector(42)' },
    },
  });
  await kube().apps.createNamespacedDeployment({ namespace: ns, body: podinfoDeployment('podinfo', ns, 1) });
  await createCanary(
    canaryObject('podinfo', ns, {
      interval: '300ms',
      iterations: 2,
      threshold: 1,
      metrics: [answerCheck(40)],
    }),
  );
  await waitFor('the Canary to be Initialized', async () => (await phase(ns)) === 'Initialized', 90_000);
  await releasePodinfo(ns, 'v2');
  await waitFor(
    'the rollout of v2 to be promoted',
    async () => {
      const now = await phase(ns);
      if (now === 'Failed') throw new Error(`v2 failed:\n${worker.logs().slice(-4000)}`);
      return now === 'Succeeded';
    },
    120_000,
  );
  // The analysis settings are read when a rollout starts: v3 is judged against min 50, and fails.
  await custom.patchNamespacedCustomObject(
    {
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural: 'canaries',
      name: 'podinfo',
      body: { spec: { analysis: { metrics: [answerCheck(50)] } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  await releasePodinfo(ns, 'v3');
  await waitFor('the rollout of v3 to be rolled back', async () => (await phase(ns)) === 'Failed', 120_000);
  // The counters follow the phases the watcher sees, a moment after the status is written.
  await waitFor(
    'the worker to count the rollback',
    async () => (await scrape(`${worker.metricsUrl}/metrics`)).includes('flagger_canary_failures_total{'),
    15_000,
  );
  for (const url of [`${worker.metricsUrl}/metrics`, sdkMetricsUrl]) {
    for (const name of sampleNames(await scrape(url))) exported.set(name, url);
  }
});

after(async () => {
  await worker?.stop();
  await namespace?.remove();
});

test('the dashboard is Grafana dashboard JSON: schemaVersion, panels on the 24-column grid, each with Prometheus targets', () => {
  assert.equal(typeof dashboard.uid, 'string');
  assert.ok((dashboard.title ?? '') !== '');
  assert.ok(
    Number.isInteger(dashboard.schemaVersion) && (dashboard.schemaVersion ?? 0) >= 36,
    `schemaVersion ${dashboard.schemaVersion}`,
  );
  assert.ok(panels.length >= 10, `${panels.length} panels`);
  const ids = (dashboard.panels ?? []).map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, `panel ids are unique: ${ids.join(',')}`);
  assert.ok(
    variables.some((v) => v.type === 'datasource' && v.name === 'datasource'),
    'a datasource variable',
  );
  const defined = new Set(variables.map((v) => v.name));
  for (const panel of panels) {
    const where = `panel ${panel.id} "${panel.title}"`;
    const grid = panel.gridPos;
    assert.ok(grid !== undefined && grid.w >= 1 && grid.h >= 1 && grid.x + grid.w <= 24, `${where}: gridPos`);
    assert.ok(typeof panel.type === 'string' && panel.type !== '', `${where}: type`);
    assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `${where}: datasource`);
    const targets = panel.targets ?? [];
    assert.ok(targets.length > 0, `${where}: targets`);
    const refIds = targets.map((target) => target.refId);
    assert.equal(new Set(refIds).size, refIds.length, `${where}: refIds are unique`);
    for (const target of targets) {
      assert.ok((target.expr ?? '').trim() !== '', `${where}: target ${target.refId} has an expression`);
      for (const [, name] of (target.expr ?? '').matchAll(/\$([a-zA-Z_]\w*)/g)) {
        if (!name?.startsWith('__')) assert.ok(defined.has(name ?? ''), `${where}: $${name} is a variable`);
      }
    }
  }
});

test('every metric the dashboard reads is exported by a real worker that promoted and rolled back', () => {
  const used = new Map<string, string>();
  for (const { panel, expr } of queries) for (const name of promqlMetricNames(expr)) used.set(name, panel);
  for (const variable of variables) {
    for (const name of grafanaVariableMetricNames(variableQuery(variable)))
      used.set(name, `variable $${variable.name}`);
  }
  assert.ok(used.size >= 20, `${used.size} metrics`);
  const missing = [...used].filter(([name]) => !exported.has(name));
  assert.deepEqual(
    missing,
    [],
    `read by the dashboard but not exported:\n${missing.map(([name, where]) => `  ${name} (${where})`).join('\n')}\nexported:\n  ${[...exported.keys()].sort().join('\n  ')}`,
  );
  // Both sources are in use: Flagger's names on /metrics, the SDK's on its own port.
  assert.ok([...used.keys()].some((name) => exported.get(name) === sdkMetricsUrl));
  assert.ok([...used.keys()].some((name) => exported.get(name) === `${worker.metricsUrl}/metrics`));
});

test('the real Prometheus accepts every query of the dashboard, with its variables filled in', async () => {
  const filled = (expr: string): string =>
    expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?[a-zA-Z_]\w*\}?/g, '.*');
  const rejected: string[] = [];
  for (const { panel, expr } of queries) {
    const url = `${endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(filled(expr))}`;
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as { status: string; error?: string };
    if (body.status !== 'success') rejected.push(`${panel}: ${expr}: ${body.error ?? response.status}`);
  }
  assert.deepEqual(rejected, []);
});
