// The revision watcher's config informers against the real API server: they list and watch Secrets
// and ConfigMaps as metadata, so a change is seen while no value ever reaches the worker.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../../stack/processes.ts';
import { metadataOnly } from '../../worker/metadata-only.ts';
import { kube, testNamespace } from '../support/cluster.ts';

let namespace: { name: string; remove: () => Promise<void> };
before(async () => {
  namespace = await testNamespace('metadata-watch');
});
after(() => namespace?.remove());

const secretValue = 'hunter2-never-in-the-worker';

test('a metadata-only Secret informer sees adds and changes with names and versions, never the data', async () => {
  const { core } = kube();
  const ns = namespace.name;
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'db' }, stringData: { password: secretValue } },
  });
  const config = metadataOnly(kube().config);
  const client = config.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer<k8s.V1Secret>(config, `/api/v1/namespaces/${ns}/secrets`, () =>
    client.listNamespacedSecret({ namespace: ns }),
  );
  const seen: { event: string; object: k8s.V1Secret }[] = [];
  for (const event of ['add', 'update'] as const)
    informer.on(event, (object) => seen.push({ event, object: structuredClone(object) }));
  await informer.start();
  try {
    const listed = informer.list().find((s) => s.metadata?.name === 'db');
    assert.ok(listed?.metadata?.resourceVersion, 'listed with its resourceVersion');

    await core.patchNamespacedSecret(
      { name: 'db', namespace: ns, body: { stringData: { password: `${secretValue}-rotated` } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await waitFor(
      'the change as an update',
      async () => seen.some((s) => s.event === 'update' && s.object.metadata?.name === 'db'),
      30_000,
    );

    for (const { object } of [...seen, ...informer.list().map((object) => ({ object }))]) {
      assert.equal(object.data, undefined);
      assert.doesNotMatch(JSON.stringify(object), /hunter2/);
    }
    // The view shares the credentials; a plain client of the same config still reads values by name.
    const read = await kube().core.readNamespacedSecret({ name: 'db', namespace: ns });
    assert.ok(read.data?.password);
  } finally {
    await informer.stop();
  }
});
