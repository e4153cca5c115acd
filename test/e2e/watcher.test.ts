// Cutover driven only the way a user drives it: apply a Canary, change the Deployment with the
// Kubernetes API, and let the `cutover worker` process (watcher + worker) do the rest.
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../../stack/processes.ts';
import { rolloutWorkflowId } from '../../client/workflow-ids.ts';
import { endpoints, kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { canaryEvents, canaryObject, ensureCrds, readCanaryStatus } from '../support/canaries.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { WorkerProcess } from '../support/worker-process.ts';

let client: Client;
let connection: Connection;

before(async () => {
  await ensureCrds();
  connection = await Connection.connect({ address: endpoints.temporalAddress });
  client = new Client({ connection, namespace: endpoints.temporalNamespace });
});
after(async () => {
  await connection.close();
});

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

async function applyApp(ns: string, canary: Record<string, unknown>): Promise<void> {
  const { apps, config } = kube();
  await apps.createNamespacedDeployment({ namespace: ns, body: podinfoDeployment('podinfo', ns, 1) });
  await config.makeApiClient(k8s.CustomObjectsApi).createNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: ns,
    plural: 'canaries',
    body: canary,
  });
  await waitFor(
    'the Canary to be Initialized',
    async () => (await readCanaryStatus(ns, 'podinfo')).phase === 'Initialized',
    60_000,
  );
}

async function setMessage(ns: string, message: string): Promise<void> {
  const container = podinfoDeployment('podinfo', ns, 1, [`--ui-message=${message}`]).spec?.template.spec
    ?.containers[0];
  await kube().apps.patchNamespacedDeployment(
    { name: 'podinfo', namespace: ns, body: { spec: { template: { spec: { containers: [container] } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}

async function waitForPhase(ns: string, phases: string[], timeoutMs = 90_000): Promise<string> {
  let phase = '';
  await waitFor(
    `phase ${phases.join(' or ')}`,
    async () => {
      phase = String((await readCanaryStatus(ns, 'podinfo')).phase);
      return phases.includes(phase);
    },
    timeoutMs,
  );
  return phase;
}

async function rolloutsOf(ns: string): Promise<{ workflowId: string; status: string }[]> {
  const found: { workflowId: string; status: string }[] = [];
  const query = `CutoverNamespace = '${ns}' AND CutoverCanary = 'podinfo' AND WorkflowType = 'rolloutWorkflow'`;
  for await (const w of client.workflow.list({ query }))
    found.push({ workflowId: w.workflowId, status: w.status.name });
  return found;
}

async function primaryMessage(ns: string): Promise<string | undefined> {
  const primary = await kube().apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
  return primary.spec?.template.spec?.containers[0]?.command?.find((a) => a.startsWith('--ui-message='));
}

async function withApp(
  prefix: string,
  canaryOptions: Parameters<typeof canaryObject>[2],
  run: (ns: string, workers: WorkerProcess[]) => Promise<void>,
  workerCount = 1,
): Promise<void> {
  const ns = await testNamespace(prefix);
  const taskQueue = `e2e-${ns.name}`;
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < workerCount; i++)
      workers.push(await startWorkerProcess({ namespace: ns.name, taskQueue }));
    await applyApp(ns.name, canaryObject('podinfo', ns.name, canaryOptions));
    await run(ns.name, workers);
  } catch (error) {
    for (const w of workers) process.stderr.write(w.logs().slice(-4000));
    throw error;
  } finally {
    for (const w of workers) await w.stop();
    await ns.remove();
  }
}

test('a new image applied with the Kubernetes API is rolled out and promoted by the watcher', async () => {
  await withApp('e2e-promote', { interval: '300ms', iterations: 3 }, async (ns) => {
    await setMessage(ns, 'v2');
    await waitForPhase(ns, ['Succeeded']);
    assert.equal(await primaryMessage(ns), '--ui-message=v2');
    const rollouts = await rolloutsOf(ns);
    assert.equal(rollouts.length, 1);
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(messages.includes(`Promotion completed! Scaling down podinfo.${ns}`), messages.join('\n'));
  });
});

test('a failing version is rolled back by the watcher and the primary keeps serving', async () => {
  await withApp(
    'e2e-rollback',
    {
      interval: '300ms',
      iterations: 5,
      threshold: 2,
      webhooks: [{ name: 'smoke', type: 'rollout', url: 'http://127.0.0.1:9/unreachable', timeout: '1s' }],
    },
    async (ns) => {
      await setMessage(ns, 'broken');
      await waitForPhase(ns, ['Failed']);
      assert.notEqual(await primaryMessage(ns), '--ui-message=broken');
      const target = await kube().apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns });
      assert.equal(target.spec?.replicas, 0);
      // An edit of the Canary makes the watcher look again: the rolled-back revision is not retried.
      await kube()
        .config.makeApiClient(k8s.CustomObjectsApi)
        .patchNamespacedCustomObject(
          {
            group: 'flagger.app',
            version: 'v1beta1',
            namespace: ns,
            plural: 'canaries',
            name: 'podinfo',
            body: { spec: { analysis: { threshold: 3 } } },
          },
          mergePatch,
        );
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal((await rolloutsOf(ns)).length, 1, 'one rollout of the broken revision, not two');
      assert.equal((await readCanaryStatus(ns, 'podinfo')).phase, 'Failed');
    },
  );
});

test('a new revision in the middle of the analysis restarts it; a ConfigMap change is a new revision too', async () => {
  await withApp('e2e-revisions', { interval: '300ms', iterations: 6 }, async (ns) => {
    const { core, apps } = kube();
    await setMessage(ns, 'v2');
    await waitFor(
      'the v2 analysis to advance',
      async () => Number((await readCanaryStatus(ns, 'podinfo')).iterations) >= 1,
      60_000,
    );
    await setMessage(ns, 'v3');
    await waitForPhase(ns, ['Succeeded']);
    assert.equal(await primaryMessage(ns), '--ui-message=v3');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.includes(`New revision detected! Restarting analysis for podinfo.${ns}`),
      messages.join('\n'),
    );
    // The Canary says Succeeded before the workflow closes (post-rollout hooks and the last search
    // attributes come after), and visibility lags a little: no rollout is left running soon after.
    await waitFor(
      'no rollout left running',
      async () => (await rolloutsOf(ns)).every((r) => r.status !== 'RUNNING'),
      15_000,
    );

    // A ConfigMap the pods read: changing its data is a new revision.
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'podinfo-env' }, data: { PODINFO_UI_COLOR: '#111111' } },
    });
    await apps.patchNamespacedDeployment(
      {
        name: 'podinfo',
        namespace: ns,
        body: {
          spec: {
            template: {
              spec: {
                containers: [{ name: 'podinfod', envFrom: [{ configMapRef: { name: 'podinfo-env' } }] }],
              },
            },
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    await waitFor(
      'the envFrom revision to be promoted',
      async () =>
        (await rolloutsOf(ns)).length === 3 && (await readCanaryStatus(ns, 'podinfo')).phase === 'Succeeded',
      90_000,
    );
    const promotedBefore = (await readCanaryStatus(ns, 'podinfo')).lastPromotedSpec;
    await core.patchNamespacedConfigMap(
      { name: 'podinfo-env', namespace: ns, body: { data: { PODINFO_UI_COLOR: '#222222' } } },
      mergePatch,
    );
    await waitFor(
      'the ConfigMap change to be promoted',
      async () => {
        const status = await readCanaryStatus(ns, 'podinfo');
        return status.phase === 'Succeeded' && status.lastPromotedSpec !== promotedBefore;
      },
      90_000,
    );
    const copy = await core.readNamespacedConfigMap({ name: 'podinfo-env-primary', namespace: ns });
    assert.deepEqual(copy.data, { PODINFO_UI_COLOR: '#222222' });
  });
});

test('two watchers at once start one workflow per revision', async () => {
  await withApp(
    'e2e-two',
    { interval: '300ms', iterations: 2 },
    async (ns) => {
      await setMessage(ns, 'v2');
      await waitForPhase(ns, ['Succeeded']);
      const revision = String((await readCanaryStatus(ns, 'podinfo')).lastPromotedSpec);
      const rollouts = await rolloutsOf(ns);
      const uid = (
        (await kube().config.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({
          group: 'flagger.app',
          version: 'v1beta1',
          namespace: ns,
          plural: 'canaries',
          name: 'podinfo',
        })) as {
          metadata: { uid: string };
        }
      ).metadata.uid;
      assert.deepEqual(
        rollouts.map((r) => r.workflowId),
        [rolloutWorkflowId(ns, 'podinfo', uid, revision)],
      );
    },
    2,
  );
});

test('a worker killed in the middle of a rollout is replaced and the rollout finishes', async () => {
  await withApp('e2e-crash', { interval: '500ms', iterations: 6 }, async (ns, workers) => {
    await setMessage(ns, 'v2');
    await waitFor(
      'two iterations',
      async () => Number((await readCanaryStatus(ns, 'podinfo')).iterations) >= 2,
      60_000,
    );
    await workers[0]?.kill();
    const replacement = await startWorkerProcess({ namespace: ns, taskQueue: `e2e-${ns}` });
    workers.push(replacement);
    await waitForPhase(ns, ['Succeeded'], 120_000);
    assert.equal(await primaryMessage(ns), '--ui-message=v2');
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    for (let k = 1; k <= 6; k++) {
      assert.equal(
        messages.filter((m) => m === `Advance podinfo.${ns} canary iteration ${k}/6`).length,
        1,
        `iteration ${k} once`,
      );
    }
  });
});

test('a Canary applied while no worker runs is picked up when the worker starts; deletion with revertOnDeletion scales the target back', async () => {
  const ns = await testNamespace('e2e-late');
  const taskQueue = `e2e-${ns.name}`;
  let worker: WorkerProcess | undefined;
  try {
    const { apps, config } = kube();
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: podinfoDeployment('podinfo', ns.name, 2),
    });
    const canary = canaryObject('podinfo', ns.name, { interval: '300ms', iterations: 2 });
    (canary.spec as Record<string, unknown>).revertOnDeletion = true;
    const custom = config.makeApiClient(k8s.CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns.name,
      plural: 'canaries',
      body: canary,
    });
    worker = await startWorkerProcess({ namespace: ns.name, taskQueue });
    await waitForPhase(ns.name, ['Initialized']);
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns.name })).spec?.replicas,
      0,
    );
    await custom.deleteNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns.name,
      plural: 'canaries',
      name: 'podinfo',
    });
    await waitFor(
      'the target to be scaled back up',
      async () =>
        (await apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns.name })).spec?.replicas === 2,
      30_000,
    );
  } catch (error) {
    process.stderr.write(worker?.logs().slice(-4000) ?? '');
    throw error;
  } finally {
    await worker?.stop();
    await ns.remove();
  }
});
