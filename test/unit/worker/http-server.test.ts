import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createControllerMetrics } from '../../../worker/controller-metrics.ts';
import { startHttpServer } from '../../../worker/http-server.ts';
import type { HealthReport, HttpServerOptions } from '../../../worker/http-server.ts';

const healthy = async (): Promise<HealthReport> => ({
  ok: true,
  checks: { temporal: 'ok', kubernetes: 'ok' },
});

async function startServer(overrides: Partial<HttpServerOptions> = {}) {
  const metrics = createControllerMetrics({ version: '0.1.0', processMetrics: false });
  metrics.recordCanaryPhase({ name: 'podinfo', namespace: 'shop' }, 'Succeeded');
  return startHttpServer({
    port: 0,
    address: '127.0.0.1',
    registry: metrics.registry,
    health: healthy,
    ...overrides,
  });
}

async function withServer(
  overrides: Partial<HttpServerOptions>,
  body: (url: string) => Promise<void>,
): Promise<void> {
  const server = await startServer(overrides);
  try {
    await body(server.url);
  } finally {
    await server.close();
  }
}

test('answers on 127.0.0.1 with the chosen port', async () => {
  const server = await startServer();
  assert.equal(server.address, '127.0.0.1');
  assert.ok(server.port > 0);
  assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  await server.close();
});

test('/metrics: the Prometheus text with the Flagger series, and the extra text after it', async () => {
  await withServer(
    {
      extraMetrics: async () =>
        '# TYPE temporal_worker_task_slots_available gauge\ntemporal_worker_task_slots_available 5\n',
    },
    async (url) => {
      const response = await fetch(`${url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      assert.ok(text.includes('flagger_info{version="0.1.0",mesh_provider="kubernetes"} 1\n'));
      assert.ok(text.includes('flagger_canary_status{name="podinfo",namespace="shop"} 1\n'));
      assert.ok(text.endsWith('temporal_worker_task_slots_available 5\n'));
    },
  );
});

test('/metrics still serves our metrics when the extra ones fail, saying why in a comment', async () => {
  await withServer(
    { extraMetrics: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9464')) },
    async (url) => {
      const response = await fetch(`${url}/metrics`);
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.ok(text.includes('flagger_info{'));
      assert.ok(text.endsWith('# extra metrics unavailable: connect ECONNREFUSED 127.0.0.1:9464\n'));
    },
  );
});

test('/healthz: 200 with the checks when healthy, 503 with them when not', async () => {
  await withServer({}, async (url) => {
    const response = await fetch(`${url}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(await response.json(), { ok: true, checks: { temporal: 'ok', kubernetes: 'ok' } });
  });
  const sick = async (): Promise<HealthReport> => ({
    ok: false,
    checks: { temporal: 'worker stopped: connection lost' },
  });
  await withServer({ health: sick }, async (url) => {
    const response = await fetch(`${url}/healthz`);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), {
      ok: false,
      checks: { temporal: 'worker stopped: connection lost' },
    });
  });
});

test('/readyz uses its own check when given, else the health check', async () => {
  const notReady = async (): Promise<HealthReport> => ({
    ok: false,
    checks: { watcher: 'initial list not done' },
  });
  await withServer({ ready: notReady }, async (url) => {
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const response = await fetch(`${url}/readyz`);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { ok: false, checks: { watcher: 'initial list not done' } });
  });
  await withServer({}, async (url) => assert.equal((await fetch(`${url}/readyz?verbose`)).status, 200));
});

test('a check that throws or hangs answers 503 instead of hanging the probe', async () => {
  await withServer({ health: async () => Promise.reject(new Error('kube API unreachable')) }, async (url) => {
    const response = await fetch(`${url}/healthz`);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { ok: false, checks: { check: 'failed: kube API unreachable' } });
  });
  let release = () => {};
  const hanging = () =>
    new Promise<HealthReport>((resolve) => (release = () => resolve({ ok: true, checks: {} })));
  await withServer({ health: hanging, checkTimeoutMs: 50 }, async (url) => {
    const response = await fetch(`${url}/healthz`);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { ok: false, checks: { check: 'no answer within 50 ms' } });
    release();
  });
});

test('unknown paths are 404 and other methods 405', async () => {
  await withServer({}, async (url) => {
    const missing = await fetch(`${url}/`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), 'not found: / (try /metrics, /healthz or /readyz)\n');
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });
});

test('a port in use is an error that names the flag to change', async () => {
  const blocker = http.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as AddressInfo).port;
  const metrics = createControllerMetrics({ version: 'v', processMetrics: false });
  try {
    await assert.rejects(
      startHttpServer({ port, address: '127.0.0.1', registry: metrics.registry, health: healthy }),
      {
        message: `cannot serve /metrics on 127.0.0.1:${port}: the port is in use; choose another with --metrics-port`,
      },
    );
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});

test('close() returns while a keep-alive client is still connected', async () => {
  const server = await startServer();
  const agent = new http.Agent({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    http
      .get(`${server.url}/healthz`, { agent }, (response) => {
        response.resume();
        response.on('end', resolve);
      })
      .on('error', reject);
  });
  await server.close();
  agent.destroy();
});
