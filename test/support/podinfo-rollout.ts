// One blue/green rollout of podinfo driven the way a user drives it, for tests of a worker started some
// other way (from the image, or as the chart's pod): a Deployment and a Canary, then a new pod template,
// until the Canary says Succeeded and the primary runs the new template.
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../../stack/processes.ts';
import { canaryObject, createCanary, readCanaryStatus } from './canaries.ts';
import { kube, podinfoDeployment } from './cluster.ts';

/** Returns once promoted; `workerLogs` goes into the error when the rollout fails instead. */
export async function promotePodinfoRollout(namespace: string, workerLogs: () => string): Promise<void> {
  const { apps } = kube();
  await apps.createNamespacedDeployment({ namespace, body: podinfoDeployment('podinfo', namespace, 1) });
  await createCanary(canaryObject('podinfo', namespace, { interval: '300ms', iterations: 3 }));
  const phase = async (): Promise<unknown> => (await readCanaryStatus(namespace, 'podinfo')).phase;
  await waitFor('the Canary to be Initialized', async () => (await phase()) === 'Initialized', 90_000);
  await releasePodinfo(namespace, 'v2');
  await waitFor(
    'the rollout to be promoted',
    async () => {
      const now = await phase();
      if (now === 'Failed') throw new Error(`the rollout failed:\n${workerLogs().slice(-4000)}`);
      return now === 'Succeeded';
    },
    120_000,
  );
  const primary = await apps.readNamespacedDeployment({ name: 'podinfo-primary', namespace });
  assert.ok(primary.spec?.template.spec?.containers[0]?.command?.includes('--ui-message=v2'));
}

/** A new revision of the podinfo Deployment: its container with `--ui-message=<message>`. */
export async function releasePodinfo(namespace: string, message: string): Promise<void> {
  const container = podinfoDeployment('podinfo', namespace, 1, [`--ui-message=${message}`]).spec?.template
    .spec?.containers[0];
  await kube().apps.patchNamespacedDeployment(
    { name: 'podinfo', namespace, body: { spec: { template: { spec: { containers: [container] } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}
