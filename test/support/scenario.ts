// A rollout scenario on the real stack: a namespace, a podinfo Deployment, a Canary, initialization
// by the real workflow, then new revisions started the way the watcher starts them.
import type { Client, WorkflowHandle } from '@temporalio/client';
import * as k8s from '@kubernetes/client-node';
import { createActivities } from '../../activities/index.ts';
import type { ValidCanary } from '../../canary/validate.ts';
import { startInitialization, startRollout } from '../../client/rollouts.ts';
import type { RolloutOptions } from '../../workflows/messages.ts';
import type { ResolvedRolloutPolicy } from '../../canary/rollout-policy.ts';
import type { rolloutWorkflow } from '../../workflows/rollout.ts';
import { endpoints, kube, podinfoDeployment, testNamespace } from './cluster.ts';
import { canaryObject, createCanary, ensureCrds } from './canaries.ts';
import type { CanaryOptions } from './canaries.ts';
import type { TestWorker } from './worker.ts';

export interface Scenario {
  namespace: string;
  name: string;
  canary: ValidCanary;
  uid: string;
  client: Client;
  /** Changes the target's pod template (podinfo arguments) and returns the new revision. */
  changeTarget(extraArgs: string[]): Promise<string>;
  /** Starts the rollout of the target's current revision, as the watcher would. */
  startRollout(
    options?: RolloutOptions & { supersedes?: string; policy?: ResolvedRolloutPolicy },
  ): Promise<WorkflowHandle<typeof rolloutWorkflow>>;
  remove(): Promise<void>;
}

export const fastOptions: RolloutOptions = { readinessPollMs: 200 };

export async function setupScenario(
  worker: TestWorker,
  prefix: string,
  canaryOptions: CanaryOptions = {},
  replicas = 1,
): Promise<Scenario> {
  await ensureCrds();
  const ns = await testNamespace(prefix);
  const name = 'podinfo';
  const { apps } = kube();
  await apps.createNamespacedDeployment({
    namespace: ns.name,
    body: podinfoDeployment(name, ns.name, replicas),
  });
  const { canary, uid } = await createCanary(canaryObject(name, ns.name, canaryOptions));
  const activities = createActivities({
    kubeconfig: kube().config,
    temporal: worker.client,
    defaultPrometheusUrl: endpoints.prometheusUrl,
  });
  const initial = await activities.currentRevision({ namespace: ns.name, target: name });
  const init = await startInitialization(worker.client, {
    canary,
    canaryUid: uid,
    revision: initial.revision,
    options: fastOptions,
    taskQueue: worker.taskQueue,
  });
  const result = await init.handle.result();
  if (result.outcome !== 'initialized') throw new Error(`initialization failed: ${result.reason}`);

  return {
    namespace: ns.name,
    name,
    canary,
    uid,
    client: worker.client,
    async changeTarget(extraArgs) {
      const patch = {
        spec: {
          template: {
            spec: {
              containers: [
                podinfoDeployment(name, ns.name, replicas, extraArgs).spec?.template.spec?.containers[0],
              ],
            },
          },
        },
      };
      await apps.patchNamespacedDeployment(
        { name, namespace: ns.name, body: patch },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
      );
      return (await activities.currentRevision({ namespace: ns.name, target: name })).revision;
    },
    async startRollout(options = {}) {
      const { revision } = await activities.currentRevision({ namespace: ns.name, target: name });
      const { supersedes, policy, ...rest } = options;
      const started = await startRollout(worker.client, {
        canary,
        canaryUid: uid,
        revision,
        supersedes,
        ...(policy ? { policy } : {}),
        options: { ...fastOptions, prometheusUrl: endpoints.prometheusUrl, ...rest },
        taskQueue: worker.taskQueue,
      });
      return started.handle;
    },
    remove: ns.remove,
  };
}
