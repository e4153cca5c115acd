import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import {
  kube,
  podinfoDeployment,
  readServiceMap,
  testNamespace,
  waitForDeploymentAvailable,
  waitForServiceEndpoints,
} from '../support/cluster.ts';

let namespace: { name: string; remove: () => Promise<void> };

before(async () => {
  namespace = await testNamespace('switch');
  const { apps } = kube();
  for (const color of ['blue', 'green'])
    await apps.createNamespacedDeployment({
      namespace: namespace.name,
      body: podinfoDeployment(color, namespace.name, 2, [`--ui-message=${color}`]),
    });
  await waitForDeploymentAvailable(namespace.name, 'blue');
  await waitForDeploymentAvailable(namespace.name, 'green');
});
after(async () => {
  await namespace.remove();
});

interface Answer {
  status: number;
  body: string;
}

/** One request on a connection of its own (no keep-alive), as a new client would open. */
function get(address: string, path: string, timeoutMs = 10_000): Promise<Answer> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${address}${path} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function servedBy(address: string): Promise<string> {
  const answer = await get(address, '/');
  assert.equal(answer.status, 200);
  return (JSON.parse(answer.body) as { message: string }).message;
}

test("a Service's local address follows its selector: new connections reach the new pods within a second, an open one finishes", async () => {
  const { core } = kube();
  const ns = namespace.name;
  await core.createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name: 'web' },
      spec: { selector: { app: 'blue' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  });
  const { address } = await waitForServiceEndpoints('web', ns, 'http', 2);
  for (let i = 0; i < 4; i++) assert.equal(await servedBy(address), 'blue');

  // A slow request opened before the switch, on blue.
  const longLived = get(address, '/delay/3');
  await new Promise((r) => setTimeout(r, 200));

  const patchedAt = Date.now();
  await core.patchNamespacedService(
    {
      name: 'web',
      namespace: ns,
      body: [{ op: 'replace', path: '/spec/selector', value: { app: 'green' } }],
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
  let firstGreenAfterMs = -1;
  while (Date.now() - patchedAt < 5000) {
    if ((await servedBy(address)) === 'green') {
      firstGreenAfterMs = Date.now() - patchedAt;
      break;
    }
  }
  process.stdout.write(`# new connections reached the new pods ${firstGreenAfterMs} ms after the patch\n`);
  assert.ok(firstGreenAfterMs >= 0 && firstGreenAfterMs < 1000, `switched after ${firstGreenAfterMs} ms`);
  for (let i = 0; i < 10; i++)
    assert.equal(await servedBy(address), 'green', 'every new connection goes to green');

  const slow = await longLived;
  assert.equal(slow.status, 200, 'the connection opened before the switch finished');
  assert.match(slow.body, /"delay":\s*3/);
  assert.deepEqual(
    readServiceMap()[`web.${ns}`]?.http?.endpoints.length,
    2,
    'services.json lists the green endpoints',
  );
});

test('a Service without a selector follows its EndpointSlices', async () => {
  const { core, config } = kube();
  const ns = namespace.name;
  const discovery = config.makeApiClient(k8s.DiscoveryV1Api);
  await core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: 'manual' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 9898 }] } },
  });
  const pods = async (app: string): Promise<string[]> =>
    (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items.map(
      (p) => p.metadata?.name ?? '',
    );
  const slice = (podNames: string[]) => ({
    metadata: { name: 'manual-1', labels: { 'kubernetes.io/service-name': 'manual' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 9898, protocol: 'TCP' }],
    endpoints: podNames.map((name, i) => ({
      addresses: [`10.250.0.${i + 1}`],
      conditions: { ready: true },
      targetRef: { kind: 'Pod', name, namespace: ns },
    })),
  });
  await discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice(await pods('blue')) });
  const { address } = await waitForServiceEndpoints('manual', ns, 'http', 2);
  assert.equal(await servedBy(address), 'blue');

  const changedAt = Date.now();
  await discovery.replaceNamespacedEndpointSlice({
    name: 'manual-1',
    namespace: ns,
    body: slice(await pods('green')),
  });
  let greenAfterMs = -1;
  while (Date.now() - changedAt < 5000) {
    if ((await servedBy(address)) === 'green') {
      greenAfterMs = Date.now() - changedAt;
      break;
    }
  }
  process.stdout.write(`# new connections followed the EndpointSlice ${greenAfterMs} ms after the change\n`);
  assert.ok(greenAfterMs >= 0 && greenAfterMs < 1000, `followed after ${greenAfterMs} ms`);
});
