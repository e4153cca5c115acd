// Alerts link to the rollout in Temporal UI: a real `cutover worker` process, given the local Temporal UI's
// address with --temporal-ui-url, sends a Slack AlertProvider's alerts to a local receiver during a real
// rollout, and every one names the run of the rollout that sent it, which is a rollout of this Canary in
// the real Temporal.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { temporalUiLinkText } from '../../activities/notifications.ts';
import { waitFor } from '../../stack/processes.ts';
import { canaryObject, createCanary, readCanaryStatus } from '../support/canaries.ts';
import { endpoints, kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { releasePodinfo } from '../support/podinfo-rollout.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { WorkerProcess } from '../support/worker-process.ts';

interface SlackBody {
  attachments?: { title?: string; title_link?: string; text?: string }[];
}

let namespace: { name: string; remove: () => Promise<void> };
let worker: WorkerProcess;
let chat: WebhookReceiver;
let connection: Connection;

before(async () => {
  chat = await startWebhookReceiver();
  chat.respond('/slack', { status: 200, body: 'ok' });
  namespace = await testNamespace('alert-links');
  worker = await startWorkerProcess({
    namespace: namespace.name,
    taskQueue: `alert-links-${process.pid}`,
    extraArgs: ['--temporal-ui-url', `${endpoints.temporalUiUrl}/`],
  });
  connection = await Connection.connect({ address: endpoints.temporalAddress });
});

after(async () => {
  await worker?.stop();
  await namespace?.remove();
  await chat?.close();
  await connection?.close();
});

test('every alert of a rollout links to its run in Temporal UI', async () => {
  const ns = namespace.name;
  await kube()
    .config.makeApiClient(k8s.CustomObjectsApi)
    .createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural: 'alertproviders',
      body: {
        apiVersion: 'flagger.app/v1beta1',
        kind: 'AlertProvider',
        metadata: { name: 'chat', namespace: ns },
        spec: { type: 'slack', channel: 'deploys', address: chat.url('/slack') },
      },
    });
  await kube().apps.createNamespacedDeployment({ namespace: ns, body: podinfoDeployment('podinfo', ns, 1) });
  await createCanary(
    canaryObject('podinfo', ns, {
      interval: '300ms',
      iterations: 2,
      alerts: [{ name: 'chat', severity: 'info', providerRef: { name: 'chat', namespace: ns } }],
    }),
  );
  const phase = async (): Promise<unknown> => (await readCanaryStatus(ns, 'podinfo')).phase;
  await waitFor('the Canary to be Initialized', async () => (await phase()) === 'Initialized', 90_000);
  await releasePodinfo(ns, 'v2');
  await waitFor('the rollout to be promoted', async () => (await phase()) === 'Succeeded', 120_000);
  // The status is written before the step's alert is sent.
  const texts = (): string[] =>
    chat.callsTo('/slack').map((call) => (call.body as SlackBody).attachments?.[0]?.text ?? '');
  await waitFor(
    'the promotion alert',
    async () => texts().some((t) => t.startsWith('Promotion completed')),
    30_000,
  );

  const alerts = chat.callsTo('/slack').map((call) => call.body as SlackBody);
  // The analysis starting and the promotion: one from a rollout step (a local activity), one from the end.
  assert.deepEqual(
    alerts.map(
      (alert) => /^(New revision detected|Promotion completed)/.exec(alert.attachments?.[0]?.text ?? '')?.[1],
    ),
    ['New revision detected', 'Promotion completed'],
    `alerts received: ${JSON.stringify(alerts)}\n${worker.logs().slice(-3000)}`,
  );
  const prefix = `${endpoints.temporalUiUrl}/namespaces/${endpoints.temporalNamespace}/workflows/`;
  const client = new Client({ connection, namespace: endpoints.temporalNamespace });
  for (const alert of alerts) {
    const attachment = alert.attachments?.[0];
    assert.equal(attachment?.title, temporalUiLinkText, JSON.stringify(alert));
    const link = attachment?.title_link ?? '';
    assert.ok(link.startsWith(prefix), `${link} is a page of Temporal UI's namespace`);
    const [workflowId, runId] = link.slice(prefix.length).split('/').map(decodeURIComponent);
    assert.ok(workflowId !== undefined && runId !== undefined, link);
    const run = await client.workflow.getHandle(workflowId, runId).describe();
    assert.equal(run.type, 'rolloutWorkflow', `${attachment?.text}: ${link}`);
    assert.match(workflowId, new RegExp(`^cutover/${ns}/podinfo/rollout/`));
  }
});
