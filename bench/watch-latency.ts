// Benchmark: how long from a Deployment update (a new revision) to the start of its rollout workflow,
// through the real `cutover worker` process (informers → reconcile → Temporal start). Prints p50/p99
// over many revisions; asserts nothing. Usage: npm run bench:watch [-- --revisions 50]
import * as k8s from '@kubernetes/client-node';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { createKubernetesActivities } from '../activities/kubernetes.ts';
import { rolloutWorkflowId } from '../client/workflow-ids.ts';
import { waitFor } from '../stack/processes.ts';
import { stackUp } from '../stack/stack.ts';
import { endpoints, kube, podinfoDeployment, testNamespace } from '../test/support/cluster.ts';
import { canaryObject, ensureCrds, readCanaryStatus } from '../test/support/canaries.ts';
import { startWebhookReceiver } from '../test/support/webhook-receiver.ts';
import { startWorkerProcess } from '../test/support/worker-process.ts';

const { values } = parseArgs({ options: { revisions: { type: 'string', default: '50' } } });
const revisions = Number(values.revisions);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

await stackUp();
await ensureCrds();
const ns = await testNamespace('bench-watch');
// A closed confirm-rollout gate: each rollout starts and waits without scaling, so the benchmark
// measures detection and start, not rollouts.
const gate = await startWebhookReceiver();
gate.respond('/closed', { status: 403, body: 'closed' });
const worker = await startWorkerProcess({ namespace: ns.name, taskQueue: `bench-${ns.name}` });
const connection = await Connection.connect({ address: endpoints.temporalAddress });
const client = new Client({ connection, namespace: endpoints.temporalNamespace });
const { apps, config } = kube();
const activities = createKubernetesActivities(config);
const latencies: number[] = [];
let uid = '';
try {
  await apps.createNamespacedDeployment({
    namespace: ns.name,
    body: podinfoDeployment('podinfo', ns.name, 1),
  });
  const canary = canaryObject('podinfo', ns.name, {
    interval: '1s',
    iterations: 2,
    webhooks: [{ name: 'gate', type: 'confirm-rollout', url: gate.url('/closed') }],
  });
  const created = (await config.makeApiClient(k8s.CustomObjectsApi).createNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: ns.name,
    plural: 'canaries',
    body: canary,
  })) as { metadata: { uid: string } };
  uid = created.metadata.uid;
  await waitFor(
    'initialization',
    async () => (await readCanaryStatus(ns.name, 'podinfo')).phase === 'Initialized',
    60_000,
  );

  for (let i = 0; i < revisions; i++) {
    const updatedAt = Date.now();
    await apps.patchNamespacedDeployment(
      {
        name: 'podinfo',
        namespace: ns.name,
        body: { spec: { template: { metadata: { annotations: { 'bench/revision': String(i) } } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const { revision } = await activities.currentRevision({ namespace: ns.name, target: 'podinfo' });
    const handle = client.workflow.getHandle(rolloutWorkflowId(ns.name, 'podinfo', uid, revision));
    let startedAt = 0;
    await waitFor(
      `rollout of revision ${revision}`,
      async () => {
        try {
          startedAt = (await handle.describe()).startTime.getTime();
          return true;
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) return false;
          throw error;
        }
      },
      30_000,
    );
    latencies.push(startedAt - updatedAt);
  }
} finally {
  await worker.stop();
  await connection.close();
  await gate.close();
  await ns.remove();
}
const sorted = [...latencies].sort((a, b) => a - b);
const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
process.stdout.write(
  `watch latency (Deployment update → rollout workflow started), ${latencies.length} revisions:\n` +
    `  p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms, mean ${mean.toFixed(0)} ms\n`,
);
