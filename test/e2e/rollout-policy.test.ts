// A RolloutPolicy used the way a user uses it: applied beside an unchanged Flagger Canary, it makes the
// `cutover worker` process switch traffic instead of copying; a broken one stops the rollout with a
// message on the Canary and the policy, and the running version keeps serving.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../stack/processes.ts';
import { canaryEvents, canaryObject, ensureCrds, readCanaryStatus } from '../support/canaries.ts';
import { kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { startWorkerProcess } from '../support/worker-process.ts';

function custom(): k8s.CustomObjectsApi {
  return kube().config.makeApiClient(k8s.CustomObjectsApi);
}

async function applyPolicy(namespace: string, spec: Record<string, unknown>): Promise<void> {
  await custom().createNamespacedCustomObject({
    group: 'cutover.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'rolloutpolicies',
    body: {
      apiVersion: 'cutover.dev/v1alpha1',
      kind: 'RolloutPolicy',
      metadata: { name: 'switch', namespace },
      spec,
    },
  });
}

async function setMessage(ns: string, message: string): Promise<void> {
  const container = podinfoDeployment('podinfo', ns, 1, [`--ui-message=${message}`]).spec?.template.spec
    ?.containers[0];
  await kube().apps.patchNamespacedDeployment(
    { name: 'podinfo', namespace: ns, body: { spec: { template: { spec: { containers: [container] } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}

async function withCanary(prefix: string, run: (ns: string) => Promise<void>): Promise<void> {
  await ensureCrds();
  const ns = await testNamespace(prefix);
  const worker = await startWorkerProcess({ namespace: ns.name, taskQueue: `e2e-${ns.name}` });
  try {
    await kube().apps.createNamespacedDeployment({
      namespace: ns.name,
      body: podinfoDeployment('podinfo', ns.name, 1),
    });
    const canary = canaryObject('podinfo', ns.name, { interval: '300ms', iterations: 1 });
    (canary.metadata as { labels?: Record<string, string> }).labels = { team: 'web' };
    await custom().createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns.name,
      plural: 'canaries',
      body: canary,
    });
    await waitFor(
      'the Canary to be Initialized',
      async () => (await readCanaryStatus(ns.name, 'podinfo')).phase === 'Initialized',
      60_000,
    );
    await run(ns.name);
  } catch (error) {
    process.stderr.write(worker.logs().slice(-4000));
    throw error;
  } finally {
    await worker.stop();
    await ns.remove();
  }
}

test('a RolloutPolicy with strategy switch makes the worker switch traffic, then settle on the primary', async () => {
  await withCanary('e2e-switch', async (ns) => {
    await applyPolicy(ns, {
      selector: { matchLabels: { team: 'web' } },
      strategy: 'switch',
      switch: { keepWarm: '2s', analysis: { metrics: [] } },
    });
    await setMessage(ns, 'v2');
    await waitFor(
      'Succeeded',
      async () => (await readCanaryStatus(ns, 'podinfo')).phase === 'Succeeded',
      90_000,
    );
    const messages = (await canaryEvents(ns, 'podinfo')).map((e) => e.message);
    assert.ok(
      messages.some((m) => m.startsWith(`Switching traffic of podinfo.${ns} to the green pods`)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => m.startsWith(`Switching traffic of podinfo.${ns} back to podinfo-primary.${ns}`)),
    );
    const apex = await kube().core.readNamespacedService({ name: 'podinfo', namespace: ns });
    assert.deepEqual(apex.spec?.selector, { app: 'podinfo-primary' });
  });
});

test('a broken RolloutPolicy stops the rollout with a message, and the running version stays', async () => {
  await withCanary('e2e-bad-policy', async (ns) => {
    await applyPolicy(ns, {
      selector: { matchLabels: { team: 'web' } },
      strategy: 'switch',
      switch: {
        keepWarm: '1m',
        analysis: { metrics: [{ name: 'made-up-metric', thresholdRange: { min: 1 } }] },
      },
    });
    await setMessage(ns, 'v2');
    let message = '';
    await waitFor(
      'a Warning on the Canary naming the policy',
      async () => {
        const events = await canaryEvents(ns, 'podinfo');
        message =
          events.find((e) => e.type === 'Warning' && e.message.includes('RolloutPolicy'))?.message ?? '';
        return message !== '';
      },
      60_000,
    ).catch(async (error: unknown) => {
      const events = (await canaryEvents(ns, 'podinfo')).map((e) => `${e.type}: ${e.message}`);
      throw new Error(`${String(error)}; events:\n${events.join('\n')}`);
    });
    assert.match(message, /cannot roll out revision/);
    const primary = await kube().apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace: ns });
    assert.equal(
      primary.spec?.template.spec?.containers[0]?.command?.includes('--ui-message=v2'),
      false,
      'the primary is untouched',
    );
    const target = await kube().apps.readNamespacedDeployment({ name: 'podinfo', namespace: ns });
    assert.equal(target.spec?.replicas, 0, 'nothing was scaled up');
  });
});
