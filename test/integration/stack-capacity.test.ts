import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clusterLayout, nodeNames } from '../../stack/cluster.ts';
import { kube, testNamespace } from '../support/cluster.ts';

let namespace: { name: string; remove: () => Promise<void> };

before(async () => {
  namespace = await testNamespace('capacity');
});
after(async () => {
  await namespace.remove();
});

/** Whether `ip` lies in the IPv4 range `cidr`. */
function inRange(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const toNumber = (a: string): number => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (toNumber(ip) & mask) >>> 0 === (toNumber(base) & mask) >>> 0;
}

/** A pod count as the apiserver writes it: `10k` for 10000. */
function podCount(quantity: string): number {
  const match = /^(\d+)(k|M)?$/.exec(quantity);
  const scale = { k: 1_000, M: 1_000_000 }[match?.[2] ?? ''] ?? 1;
  return Number(match?.[1] ?? NaN) * scale;
}

test('the cluster holds 2,000 Canaries: a /16 Service range, a wide pod range, thousands of pods per node', async () => {
  const { core, apps } = kube();
  const ns = namespace.name;
  // 300 Services are more than the apiserver's default /24 holds (254 addresses).
  const names = Array.from({ length: 300 }, (_, i) => `svc-${i}`);
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(
      names.slice(i, i + 25).map((name) =>
        core.createNamespacedService({
          namespace: ns,
          body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }] } },
        }),
      ),
    );
  }
  const services = await core.listNamespacedService({ namespace: ns });
  assert.equal(services.items.length, 300);
  for (const svc of services.items)
    assert.ok(
      inRange(svc.spec?.clusterIP ?? '', clusterLayout.serviceRange),
      `${svc.spec?.clusterIP} is in the range`,
    );

  for (const name of nodeNames) {
    const node = await core.readNode({ name });
    assert.equal(
      podCount(node.status?.allocatable?.pods ?? '0'),
      clusterLayout.podsPerNode,
      `${name} takes thousands of pods`,
    );
    assert.ok(
      clusterLayout.podsPerNode * nodeNames.length >= 2000 * 4,
      'room for 4 pods of each of 2,000 Canaries',
    );
  }

  // A pod of an image the pod runner does not run is still scheduled and gets an address of the range.
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'pause' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'pause' } },
        template: {
          metadata: { labels: { app: 'pause' } },
          spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }] },
        },
      },
    },
  });
  let podIP = '';
  for (let i = 0; i < 120 && !podIP; i++) {
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=pause' });
    podIP = pods.items[0]?.status?.podIP ?? '';
    if (!podIP) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(inRange(podIP, clusterLayout.podRange), `pod IP ${podIP} is in ${clusterLayout.podRange}`);
});
