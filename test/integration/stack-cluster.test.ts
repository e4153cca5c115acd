import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../../stack/processes.ts';
import {
  kube,
  podinfoDeployment,
  readServiceMap,
  testNamespace,
  waitForDeploymentAvailable,
  waitForServiceEndpoints,
} from '../support/cluster.ts';
import { promQuery } from '../support/prometheus.ts';

let namespace: { name: string; remove: () => Promise<void> };

before(async () => {
  namespace = await testNamespace('stack');
});
after(async () => {
  await namespace.remove();
});

test('a Deployment created with @kubernetes/client-node becomes Available and real podinfo processes serve its pods', async () => {
  const { apps, core } = kube();
  const ns = namespace.name;
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: podinfoDeployment('podinfo', ns, 2, ['--ui-message=served-by-the-pod-runner']),
  });
  await core.createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name: 'podinfo' },
      spec: { selector: { app: 'podinfo' }, ports: [{ name: 'http', port: 9898, targetPort: 'http' }] },
    },
  });
  await waitForDeploymentAvailable(ns, 'podinfo');
  const pods = await core.listNamespacedPod({ namespace: ns });
  assert.equal(pods.items.length, 2);
  for (const pod of pods.items) assert.equal(pod.status?.phase, 'Running');

  const service = await waitForServiceEndpoints('podinfo', ns, 'http', 2);
  // Each pod answers on its own local address, with the container's arguments applied.
  for (const endpoint of service.endpoints) {
    const info = (await (await fetch(`http://${endpoint}/`)).json()) as { message: string; hostname: string };
    assert.equal(info.message, 'served-by-the-pod-runner');
  }
  for (let i = 0; i < 6; i++) assert.equal((await fetch(`http://${service.address}/status/200`)).status, 200);
  // The Service address spreads requests over both pods: each pod counted some of them.
  for (const endpoint of service.endpoints) {
    const metrics = await (await fetch(`http://${endpoint}/metrics`)).text();
    const served =
      /http_request_duration_seconds_count\{method="GET",path="status",status="200"\} (\d+)/.exec(metrics);
    assert.ok(Number(served?.[1] ?? 0) > 0, `pod at ${endpoint} served part of the Service's traffic`);
  }
});

test('Prometheus scrapes the pods with the labels of Flagger builtin queries', async () => {
  const ns = namespace.name;
  const service = await waitForServiceEndpoints('podinfo', ns, 'http', 2);
  const query = `sum by (kubernetes_pod_name) (http_request_duration_seconds_count{kubernetes_namespace="${ns}"})`;
  let samples = await promQuery(query);
  await waitFor(
    'Prometheus to see both pods',
    async () => {
      await fetch(`http://${service.address}/status/200`);
      samples = await promQuery(query);
      return samples.length === 2;
    },
    60_000,
  );
  for (const sample of samples) {
    assert.match(sample.metric.kubernetes_pod_name ?? '', /^podinfo-[a-z0-9]+-[a-z0-9]+$/);
    assert.ok(Number(sample.value[1]) > 0);
  }
});

test('a deleted pod stops being served and its replacement is served instead', async () => {
  const { core } = kube();
  const ns = namespace.name;
  const before = await waitForServiceEndpoints('podinfo', ns, 'http', 2);
  const pods = await core.listNamespacedPod({ namespace: ns });
  const victim = pods.items[0]?.metadata?.name ?? '';
  await core.deleteNamespacedPod({ name: victim, namespace: ns, gracePeriodSeconds: 0 });
  await waitFor(
    'the replacement pod to be served',
    async () => {
      const now = readServiceMap()[`podinfo.${ns}`]?.http?.endpoints ?? [];
      return now.length === 2 && now.join() !== before.endpoints.join();
    },
    60_000,
  );
});
