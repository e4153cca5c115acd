import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kube, readServiceMap, waitForServiceEndpoints } from '../support/cluster.ts';
import { canaryEvents, readCanaryStatus } from '../support/canaries.ts';
import { recordHistory } from '../support/histories.ts';
import { startLoad } from '../support/load.ts';
import { canaryMetricsReady } from '../support/prometheus.ts';
import { setupScenario } from '../support/scenario.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';
import { startTestWorker } from '../support/worker.ts';
import type { TestWorker } from '../support/worker.ts';

let worker: TestWorker;
let hooks: WebhookReceiver;

before(async () => {
  worker = await startTestWorker('promotion');
  hooks = await startWebhookReceiver();
  hooks.handle('/acceptance', canaryMetricsReady);
});
after(async () => {
  await hooks.close();
  await worker.stop();
});

test('initialization creates the primary Deployment and the three Services, and scales the target to zero', async () => {
  const scenario = await setupScenario(worker, 'init');
  try {
    const { apps, core } = kube();
    const ns = scenario.namespace;
    const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
    assert.deepEqual(primary.spec?.selector.matchLabels, { app: 'podinfo-primary' });
    assert.equal(primary.spec?.template.metadata?.labels?.app, 'podinfo-primary');
    assert.equal(primary.metadata?.ownerReferences?.[0]?.kind, 'Canary');
    const target = await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns });
    assert.equal(target.spec?.replicas, 0);
    const selectors: Record<string, Record<string, string> | undefined> = {};
    for (const name of ['podinfo', 'podinfo-primary', 'podinfo-canary']) {
      const service = await core.readNamespacedService({ name, namespace: ns });
      assert.equal(service.spec?.type, 'ClusterIP');
      selectors[name] = service.spec?.selector;
    }
    assert.deepEqual(selectors, {
      podinfo: { app: 'podinfo-primary' },
      'podinfo-primary': { app: 'podinfo-primary' },
      'podinfo-canary': { app: 'podinfo' },
    });
    const status = await readCanaryStatus(ns, 'podinfo');
    assert.equal(status.phase, 'Initialized');
    const events = await canaryEvents(ns, 'podinfo');
    assert.ok(events.some((e) => e.message === `Initialization done! podinfo.${ns}`));
    // The apex Service reaches the primary's pods, served locally.
    await waitForServiceEndpoints('podinfo', ns, 'http', 1);
  } finally {
    await scenario.remove();
  }
});

test('a good revision is promoted after its iterations: template copied to the primary, target scaled to zero', async () => {
  const scenario = await setupScenario(worker, 'promote', {
    interval: '1s',
    iterations: 3,
    threshold: 1,
    metrics: [
      { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '30s' },
      { name: 'request-duration', thresholdRange: { max: 500 }, interval: '30s' },
    ],
    webhooks: [
      { name: 'acceptance-test', type: 'pre-rollout', url: hooks.url('/acceptance'), timeout: '25s' },
      {
        name: 'load-test',
        type: 'rollout',
        url: hooks.url('/load'),
        timeout: '5s',
        metadata: { cmd: 'hey -z 1m' },
      },
      { name: 'notify', type: 'post-rollout', url: hooks.url('/post') },
      { name: 'audit', type: 'event', url: hooks.url('/events') },
    ],
  });
  const ns = scenario.namespace;
  const load = startLoad('podinfo-canary', ns, '/', 30);
  try {
    const revision = await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    const result = await handle.result();
    await recordHistory('promotion', handle);
    const story = (await canaryEvents(ns, 'podinfo')).map((e) => e.message).join('\n');
    assert.equal(result.outcome, 'promoted', `${result.reason}\n${story}`);
    assert.equal(result.iteration, 3);

    const { apps } = kube();
    const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
    assert.ok(
      primary.spec?.template.spec?.containers[0]?.command?.includes('--ui-message=v2'),
      'template copied',
    );
    assert.deepEqual(primary.spec?.selector.matchLabels, { app: 'podinfo-primary' }, 'selector kept');
    const target = await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns });
    assert.equal(target.spec?.replicas, 0);

    const status = await readCanaryStatus(ns, 'podinfo');
    assert.equal(status.phase, 'Succeeded');
    assert.equal(status.lastPromotedSpec, revision);
    const conditions = status.conditions as { type: string; status: string; reason: string }[];
    assert.deepEqual(
      conditions.filter((c) => c.type === 'Promoted').map((c) => [c.status, c.reason]),
      [['True', 'Succeeded']],
    );

    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    const expected = [
      `New revision detected! Scaling up podinfo.${ns}`,
      `Starting canary analysis for podinfo.${ns}`,
      `Advance podinfo.${ns} canary iteration 3/3`,
      `Copying podinfo.${ns} template spec to podinfo-primary.${ns}`,
      `Promotion completed! Scaling down podinfo.${ns}`,
    ];
    let at = -1;
    for (const text of expected) {
      const index = messages.indexOf(text, at + 1);
      assert.ok(index > at, `event "${text}" in order; got:\n${messages.join('\n')}`);
      at = index;
    }

    assert.equal(hooks.callsTo('/acceptance').length >= 1, true);
    assert.ok(hooks.callsTo('/load').length >= 3, 'the load-test hook ran every iteration');
    const load0 = hooks.callsTo('/load')[0]?.body;
    assert.deepEqual(
      {
        name: load0?.name,
        namespace: load0?.namespace,
        checksum: load0?.checksum,
        metadata: load0?.metadata,
      },
      { name: 'podinfo', namespace: ns, checksum: revision, metadata: { cmd: 'hey -z 1m' } },
    );
    assert.equal(hooks.callsTo('/post').at(-1)?.body.phase, 'Succeeded');
    // Event hooks receive every event, with Flagger's extra fields.
    const completed = hooks
      .callsTo('/events')
      .find((c) => c.body.eventMessage === `Promotion completed! Scaling down podinfo.${ns}`);
    assert.equal(completed?.body.eventType, 'Normal');
    assert.match(String(completed?.body.timestamp), /^\d{13}$/);
    // After promotion the apex Service serves the new version.
    const apex = readServiceMap()[`podinfo.${ns}`]?.http?.address;
    assert.ok(apex);
  } finally {
    await load.stop();
    await scenario.remove();
  }
});
