import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kube } from '../support/cluster.ts';
import { canaryEvents, readCanaryStatus } from '../support/canaries.ts';
import { recordHistory } from '../support/histories.ts';
import { startLoad } from '../support/load.ts';
import { canaryMetricsReady } from '../support/prometheus.ts';
import { setupScenario } from '../support/scenario.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';
import { startTestWorker } from '../support/worker.ts';
import { statusQuery } from '../../workflows/messages.ts';
import type { TestWorker } from '../support/worker.ts';

let worker: TestWorker;
let hooks: WebhookReceiver;

before(async () => {
  worker = await startTestWorker('rollback');
  hooks = await startWebhookReceiver();
  hooks.handle('/metrics-ready', canaryMetricsReady);
});
after(async () => {
  await hooks.close();
  await worker.stop();
});

async function assertRolledBack(ns: string, primaryArgsBefore: string[] | undefined): Promise<string[]> {
  const { apps } = kube();
  const target = await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns });
  assert.equal(target.spec?.replicas, 0, 'the green version is scaled to zero');
  const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
  assert.deepEqual(
    primary.spec?.template.spec?.containers[0]?.command,
    primaryArgsBefore,
    'the primary never changed',
  );
  const status = await readCanaryStatus(ns, 'podinfo');
  assert.equal(status.phase, 'Failed');
  const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
  assert.ok(messages.includes(`Canary failed! Scaling down podinfo.${ns}`), messages.join('\n'));
  return messages;
}

async function primaryCommand(ns: string): Promise<string[] | undefined> {
  const primary = await kube().apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
  return primary.spec?.template.spec?.containers[0]?.command;
}

test('rolls back when the canary answers 500s under load (success rate below its minimum)', async () => {
  const scenario = await setupScenario(worker, 'rb-rate', {
    interval: '2s',
    iterations: 10,
    threshold: 2,
    metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '30s' }],
    webhooks: [
      { name: 'acceptance-test', type: 'pre-rollout', url: hooks.url('/metrics-ready'), timeout: '25s' },
      { name: 'post', type: 'post-rollout', url: hooks.url('/rate/post') },
    ],
  });
  const ns = scenario.namespace;
  const load = startLoad('podinfo-canary', ns, '/', 30);
  try {
    const before = await primaryCommand(ns);
    await scenario.changeTarget(['--random-error=true']);
    const handle = await scenario.startRollout();
    const result = await handle.result();
    await recordHistory('rollback-success-rate', handle);
    assert.equal(result.outcome, 'rolled-back');
    assert.equal(result.failedChecks, 2);
    const messages = await assertRolledBack(ns, before);
    assert.ok(
      messages.some((m) => m.startsWith(`Halt podinfo.${ns} advancement success rate`)),
      `a success-rate halt is among the events:\n${messages.join('\n')}`,
    );
    assert.ok(messages.includes(`Rolling back podinfo.${ns} failed checks threshold reached 2`));
    assert.equal(hooks.callsTo('/rate/post').at(-1)?.body.phase, 'Failed');
  } finally {
    await load.stop();
    await scenario.remove();
  }
});

test('rolls back when the canary is slow (P99 request duration above its maximum)', async () => {
  const scenario = await setupScenario(worker, 'rb-p99', {
    interval: '2s',
    iterations: 10,
    threshold: 2,
    metrics: [{ name: 'request-duration', thresholdRange: { max: 500 }, interval: '30s' }],
    webhooks: [
      { name: 'acceptance-test', type: 'pre-rollout', url: hooks.url('/metrics-ready'), timeout: '25s' },
    ],
  });
  const ns = scenario.namespace;
  const load = startLoad('podinfo-canary', ns, '/', 20);
  try {
    const before = await primaryCommand(ns);
    await scenario.changeTarget([
      '--random-delay=true',
      '--random-delay-unit=ms',
      '--random-delay-min=700',
      '--random-delay-max=900',
    ]);
    const handle = await scenario.startRollout();
    const result = await handle.result();
    await recordHistory('rollback-p99', handle);
    assert.equal(result.outcome, 'rolled-back');
    const messages = await assertRolledBack(ns, before);
    assert.ok(
      messages.some((m) => m.startsWith(`Halt podinfo.${ns} advancement request duration`)),
      `a request-duration halt is among the events:\n${messages.join('\n')}`,
    );
  } finally {
    await load.stop();
    await scenario.remove();
  }
});

test('"no values found" counts as a failed check (a canary that receives no traffic)', async () => {
  const scenario = await setupScenario(worker, 'rb-nodata', {
    interval: '500ms',
    iterations: 5,
    threshold: 2,
    metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '30s' }],
  });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=quiet']);
    const handle = await scenario.startRollout();
    const result = await handle.result();
    await recordHistory('rollback-no-data', handle);
    assert.equal(result.outcome, 'rolled-back');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.some((m) => m.includes('no values found') && m.includes('no-data policy: fail')),
      messages.join('\n'),
    );
  } finally {
    await scenario.remove();
  }
});

test('a failing pre-rollout hook counts failed checks until the threshold rolls back', async () => {
  hooks.respond('/acceptance-bad', { status: 500, body: 'acceptance tests failed: 3 of 12' });
  const scenario = await setupScenario(worker, 'rb-pre', {
    interval: '300ms',
    iterations: 3,
    threshold: 3,
    webhooks: [
      { name: 'acceptance-test', type: 'pre-rollout', url: hooks.url('/acceptance-bad'), timeout: '2s' },
    ],
  });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    const result = await handle.result();
    await recordHistory('rollback-pre-rollout', handle);
    assert.equal(result.outcome, 'rolled-back');
    assert.equal(result.failedChecks, 3);
    assert.equal(hooks.callsTo('/acceptance-bad').length, 3);
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.some(
        (m) =>
          m.includes('pre-rollout check acceptance-test failed') &&
          m.includes('acceptance tests failed: 3 of 12'),
      ),
      `the hook's answer is in the event:\n${messages.join('\n')}`,
    );
  } finally {
    await scenario.remove();
  }
});

test('a failing rollout hook halts advancement and rolls back at the threshold', async () => {
  hooks.respond('/load-bad', { status: 200 }, { status: 503, body: 'hey: connection refused' });
  const scenario = await setupScenario(worker, 'rb-hook', {
    interval: '300ms',
    iterations: 5,
    threshold: 2,
    webhooks: [{ name: 'load-test', type: 'rollout', url: hooks.url('/load-bad'), timeout: '2s' }],
  });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    const result = await handle.result();
    await recordHistory('rollback-rollout-hook', handle);
    assert.equal(result.outcome, 'rolled-back');
    assert.equal(result.iteration, 1, 'one good iteration before the hook failed');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.some((m) => m.includes('external check load-test failed')),
      messages.join('\n'),
    );
  } finally {
    await scenario.remove();
  }
});

test('a rollback webhook that answers 2xx rolls back at once', async () => {
  const scenario = await setupScenario(worker, 'rb-manual', {
    interval: '300ms',
    iterations: 100,
    threshold: 5,
    webhooks: [{ name: 'rollback', type: 'rollback', url: hooks.url('/rollback/check') }],
  });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    // Let a few iterations pass, then open the loadtester-style rollback gate.
    while ((await handle.query(statusQuery)).iteration < 2) await new Promise((r) => setTimeout(r, 200));
    await fetch(hooks.url('/rollback/open'), {
      method: 'POST',
      body: JSON.stringify({ name: 'podinfo', namespace: ns }),
    });
    const result = await handle.result();
    await recordHistory('rollback-webhook', handle);
    assert.equal(result.outcome, 'rolled-back');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(messages.includes(`Rolling back podinfo.${ns} manual webhook invoked`), messages.join('\n'));
  } finally {
    await scenario.remove();
  }
});
