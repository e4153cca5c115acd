import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kube } from '../support/cluster.ts';
import { waitFor } from '../../stack/processes.ts';
import { canaryEvents, readCanaryStatus } from '../support/canaries.ts';
import { recordHistory } from '../support/histories.ts';
import { setupScenario } from '../support/scenario.ts';
import { openGate, startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';
import { startTestWorker } from '../support/worker.ts';
import type { TestWorker } from '../support/worker.ts';
import { abortRollout, promoteRollout } from '../../client/rollouts.ts';
import { statusQuery } from '../../workflows/messages.ts';
import type { RolloutStatus } from '../../workflows/messages.ts';
import type { WorkflowHandle } from '@temporalio/client';

let worker: TestWorker;
let hooks: WebhookReceiver;

before(async () => {
  worker = await startTestWorker('steering');
  hooks = await startWebhookReceiver();
});
after(async () => {
  await hooks.close();
  await worker.stop();
});

async function waitForStatus(
  handle: WorkflowHandle,
  what: string,
  check: (status: RolloutStatus) => boolean,
  timeoutMs = 60_000,
): Promise<RolloutStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await handle.query(statusQuery);
    if (check(status)) return status;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('confirm-rollout: nothing scales while the gate is closed; opening it starts the rollout', async () => {
  const scenario = await setupScenario(worker, 'gate-rollout', {
    interval: '300ms',
    iterations: 2,
    webhooks: [{ name: 'confirm', type: 'confirm-rollout', url: hooks.url('/gate/check') }],
  });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    await waitForStatus(handle, 'phase Waiting', (s) => s.phase === 'Waiting');
    await new Promise((r) => setTimeout(r, 1000));
    const target = await kube().apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns });
    assert.equal(target.spec?.replicas, 0, 'the green version is not scaled up while waiting for approval');
    assert.equal((await readCanaryStatus(ns, 'podinfo')).phase, 'Waiting');
    assert.equal((await handle.query(statusQuery)).failedChecks, 0, 'a closed gate is not a failed check');
    await openGate(hooks, '/gate/open', 'podinfo', ns);
    const result = await handle.result();
    await recordHistory('confirm-rollout-gate', handle);
    assert.equal(result.outcome, 'promoted');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.includes(`Halt podinfo.${ns} advancement waiting for approval confirm`),
      messages.join('\n'),
    );
  } finally {
    await scenario.remove();
  }
});

test('confirm-promotion: the analysis goes on in WaitingPromotion until a loadtester gate opens', async () => {
  const scenario = await setupScenario(worker, 'gate-promo', {
    interval: '300ms',
    iterations: 2,
    webhooks: [
      { name: 'load-test', type: 'rollout', url: hooks.url('/gate-promo/load') },
      { name: 'promotion-gate', type: 'confirm-promotion', url: hooks.url('/gate/check') },
    ],
  });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    await waitForStatus(handle, 'phase WaitingPromotion', (s) => s.phase === 'WaitingPromotion');
    const loadCalls = hooks.callsTo('/gate-promo/load').length;
    // Under load a tick can take longer than its interval: wait for two more ticks, not a fixed time.
    await waitFor(
      'rollout hooks to keep running while promotion waits',
      async () => hooks.callsTo('/gate-promo/load').length >= loadCalls + 2,
      20_000,
    );
    assert.equal((await readCanaryStatus(ns, 'podinfo')).phase, 'WaitingPromotion');
    await openGate(hooks, '/gate/open', 'podinfo', ns);
    const result = await handle.result();
    await recordHistory('confirm-promotion-gate', handle);
    assert.equal(result.outcome, 'promoted');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.includes(`Halt podinfo.${ns} advancement waiting for promotion approval promotion-gate`),
      messages.join('\n'),
    );
  } finally {
    await scenario.remove();
  }
});

test('promote signal ends the analysis early and promotes; who and why are kept', async () => {
  const scenario = await setupScenario(worker, 'sig-promote', { interval: '500ms', iterations: 1000 });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    await waitForStatus(handle, 'first iteration', (s) => s.iteration >= 1);
    await promoteRollout(worker.client, handle.workflowId, {
      by: 'alice@example.com',
      reason: 'hotfix verified by QA',
    });
    const result = await handle.result();
    await recordHistory('promote-signal', handle);
    assert.equal(result.outcome, 'promoted');
    assert.deepEqual(
      result.manualActions.map((a) => [a.action, a.by, a.reason]),
      [['promote', 'alice@example.com', 'hotfix verified by QA']],
    );
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.includes(`Promotion of podinfo.${ns} requested by alice@example.com: hotfix verified by QA`),
      messages.join('\n'),
    );
    const history = await handle.fetchHistory();
    const signal = history.events?.find(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'promote',
    );
    assert.ok(signal, 'the signal is in the workflow history');
  } finally {
    await scenario.remove();
  }
});

test('abort signal rolls back at once with the caller and the reason in the events', async () => {
  const scenario = await setupScenario(worker, 'sig-abort', { interval: '500ms', iterations: 1000 });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout();
    await waitForStatus(handle, 'first iteration', (s) => s.iteration >= 1);
    await abortRollout(worker.client, handle.workflowId, { by: 'bob', reason: 'error budget burning' });
    const result = await handle.result();
    await recordHistory('abort-signal', handle);
    assert.equal(result.outcome, 'rolled-back');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.includes(`Rolling back podinfo.${ns} aborted by bob: error budget burning`),
      messages.join('\n'),
    );
    const target = await kube().apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns });
    assert.equal(target.spec?.replicas, 0);
  } finally {
    await scenario.remove();
  }
});

test('a new revision during the analysis restarts it; only the newer revision is promoted', async () => {
  const scenario = await setupScenario(worker, 'new-rev', { interval: '300ms', iterations: 4 });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const first = await scenario.startRollout({});
    await waitForStatus(first, 'an iteration of v2', (s) => s.iteration >= 1);
    const v3 = await scenario.changeTarget(['--ui-message=v3']);
    const second = await scenario.startRollout({ supersedes: first.workflowId });
    const firstResult = await first.result();
    assert.equal(firstResult.outcome, 'superseded');
    const result = await second.result();
    await recordHistory('new-revision-restarts', second);
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.revision, v3);
    assert.equal(result.iteration, 4, 'the analysis restarted from zero');
    const primary = await kube().apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
    assert.ok(primary.spec?.template.spec?.containers[0]?.command?.includes('--ui-message=v3'));
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.includes(`New revision detected! Restarting analysis for podinfo.${ns}`),
      messages.join('\n'),
    );
  } finally {
    await scenario.remove();
  }
});

test('a green version that never becomes ready fails at its progress deadline and alerts', async () => {
  const alerts = await startWebhookReceiver();
  const scenario = await setupScenario(worker, 'deadline', {
    interval: '300ms',
    iterations: 2,
    progressDeadlineSeconds: 3,
    alerts: [{ name: 'on-call', severity: 'error', providerRef: { name: 'on-call' } }],
  });
  const ns = scenario.namespace;
  try {
    const custom = kube().config.makeApiClient((await import('@kubernetes/client-node')).CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural: 'alertproviders',
      body: {
        apiVersion: 'flagger.app/v1beta1',
        kind: 'AlertProvider',
        metadata: { name: 'on-call', namespace: ns },
        spec: { type: 'slack', channel: 'deploys', address: alerts.url('/slack') },
      },
    });
    // A node selector nothing matches: the green pods stay Pending, as with a bad image or no capacity.
    await kube().apps.patchNamespacedDeployment(
      {
        name: 'podinfo',
        namespace: ns,
        body: { spec: { template: { spec: { nodeSelector: { 'no-such': 'node' } } } } },
      },
      (await import('@kubernetes/client-node')).setHeaderOptions(
        'Content-Type',
        'application/merge-patch+json',
      ),
    );
    const handle = await scenario.startRollout();
    const result = await handle.result();
    await recordHistory('progress-deadline', handle);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /progress deadline exceeded/);
    assert.equal((await readCanaryStatus(ns, 'podinfo')).phase, 'Failed');
    const slack = alerts.callsTo('/slack');
    assert.ok(slack.length >= 1, 'the on-call channel was alerted');
    assert.match(JSON.stringify(slack.at(-1)?.body), /progress deadline exceeded/);
  } finally {
    await scenario.remove();
    await alerts.close();
  }
});

test('skipAnalysis promotes as soon as the green version is ready, running no checks', async () => {
  const scenario = await setupScenario(worker, 'skip', {
    interval: '10s',
    iterations: 10,
    skipAnalysis: true,
    webhooks: [{ name: 'load-test', type: 'rollout', url: hooks.url('/skip/load') }],
  });
  const ns = scenario.namespace;
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const began = Date.now();
    const handle = await scenario.startRollout();
    const result = await handle.result();
    await recordHistory('skip-analysis', handle);
    assert.equal(result.outcome, 'promoted');
    assert.ok(Date.now() - began < 10_000, 'no analysis interval was waited for');
    assert.equal(hooks.callsTo('/skip/load').length, 0, 'no rollout hook ran');
    const primary = await kube().apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
    assert.ok(primary.spec?.template.spec?.containers[0]?.command?.includes('--ui-message=v2'));
  } finally {
    await scenario.remove();
  }
});
