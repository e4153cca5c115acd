// checkMetric with a Secret-backed MetricTemplate: what it reports must not carry the Secret's
// credentials, whichever way the call fails. The Kubernetes API is faked at its HTTP boundary (a local
// server answering the two reads the activity makes); Prometheus is a local server too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { createMetricActivities } from '../../../activities/metric-checks.ts';
import type { CheckMetricInput } from '../../../activities/metric-checks.ts';
import { localKubeconfig, notFound, refusingUrl, startLocalServer, type LocalServer } from './local-http.ts';

const password = 'hunter2-hunter2';
const token = 'tok-0123456789abcdef';

let api: LocalServer;
let prometheus: LocalServer;
/** The Secret the template names, by test. */
let secretData: Record<string, string> = {};

before(async () => {
  prometheus = await startLocalServer((req, res) => {
    // A misbehaving Prometheus (or something else at its address) echoing what it was sent.
    res.writeHead(401, { 'Content-Type': 'text/plain' });
    res.end(`unauthorized: ${req.headers.authorization ?? ''} ${'padding '.repeat(100)}`);
  });
  api = await startLocalServer((req, res) => {
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/apis/flagger.app/v1beta1/namespaces/test/metrictemplates/latency') {
      return json(200, {
        apiVersion: 'flagger.app/v1beta1',
        kind: 'MetricTemplate',
        metadata: { name: 'latency', namespace: 'test' },
        spec: { provider: { type: 'prometheus', secretRef: { name: 'prom-auth' } }, query: 'vector(1)' },
      });
    }
    if (req.url === '/api/v1/namespaces/test/secrets/prom-auth') {
      if (Object.keys(secretData).length === 0) return notFound(res);
      const data = Object.fromEntries(
        Object.entries(secretData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      );
      return json(200, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'prom-auth' }, data });
    }
    json(404, { kind: 'Status', code: 404 });
  });
});

after(() => {
  api.close();
  prometheus.close();
});

function activities() {
  return createMetricActivities({ kubeconfig: localKubeconfig(api), defaultPrometheusUrl: prometheus.url });
}

const input: CheckMetricInput = {
  canary: { name: 'podinfo', namespace: 'test', target: 'podinfo', service: 'podinfo' },
  metric: {
    source: 'template',
    name: 'latency',
    interval: '1m',
    intervalMs: 60_000,
    thresholdRange: { max: 500 },
    templateRef: { name: 'latency', namespace: 'test' },
    templateVariables: {},
  },
};

describe('checkMetric with a Secret-backed MetricTemplate', () => {
  it('names an unreachable Prometheus from the Secret without its user:password', async () => {
    secretData = { address: (await refusingUrl()).replace('http://', `http://admin:${password}@`) };
    await assert.rejects(activities().checkMetric(input), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'PrometheusUnavailable');
      assert.match(
        error.message,
        /^Prometheus http:\/\/\*\*\*@127\.0\.0\.1:\d+\/ unavailable: .*ECONNREFUSED/,
      );
      assert.ok(!error.message.includes(password), error.message);
      return true;
    });
  });

  it('quotes a trimmed error answer without the token it echoes', async () => {
    secretData = { token, address: prometheus.url };
    const result = await activities().checkMetric(input);
    assert.equal(result.passed, false);
    assert.ok(!result.message.includes(token), result.message);
    assert.match(result.message, /^Metric query failed for latency: HTTP 401: unauthorized: Bearer \*\*\*/);
    assert.ok(result.message.length < 400, `${result.message.length} characters`);
  });

  it('reports a missing Secret as a failed check naming the Secret and the fix', async () => {
    secretData = {};
    const result = await activities().checkMetric(input);
    assert.equal(result.passed, false);
    assert.match(result.message, /Secret test\/prom-auth of MetricTemplate test\/latency not found/);
  });
});
