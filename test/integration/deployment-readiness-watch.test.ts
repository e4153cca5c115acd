// Readiness waits served by the worker's one Deployment watch, against the real cluster: a wait wakes
// when the watch reports the change (no poll would come in time), never reports the state before the
// workflow's own write as ready, and reads the API server when no synced watch covers the namespace.
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createKubernetesActivities } from '../../activities/kubernetes.ts';
import type { DeploymentWatch } from '../../activities/kubernetes.ts';
import { DeploymentCache } from '../../worker/deployment-cache.ts';
import { kube, testNamespace, waitForDeploymentAvailable } from '../support/cluster.ts';

const { config, apps } = kube();
const quiet = { info: () => undefined, warn: () => undefined };
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

let namespace: { name: string; remove: () => Promise<void> };
let ns = '';
let cache: DeploymentCache;
let activities: ReturnType<typeof createKubernetesActivities>;

/** A Deployment whose pods KWOK runs and marks ready, with no local process behind them. */
function kwokOnly(name: string, replicas: number): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
      },
    },
  };
}

async function scale(name: string, replicas: number): Promise<void> {
  await apps.patchNamespacedDeployment({ name, namespace: ns, body: { spec: { replicas } } }, mergePatch);
}

before(async () => {
  namespace = await testNamespace('readiness-watch');
  ns = namespace.name;
  cache = new DeploymentCache({ kubeconfig: config, namespace: ns, log: quiet });
  await cache.start();
  activities = createKubernetesActivities(config, { deployments: cache });
});

after(async () => {
  await cache.stop();
  await namespace.remove();
});

test('a readiness wait wakes on the watch event: with a 10-minute poll it still sees the pods ready', async () => {
  await apps.createNamespacedDeployment({ namespace: ns, body: kwokOnly('woken', 0) });
  await scale('woken', 2);
  const readiness = await activities.waitForDeploymentReady({
    namespace: ns,
    name: 'woken',
    maxWaitMs: 45_000,
    pollMs: 600_000,
  });
  assert.equal(readiness.ready, true, readiness.message);
  assert.equal(readiness.availableReplicas, 2);
  assert.equal(cache.waiting, 0, 'no wait is left registered on the watch');
});

test("a wait right after the workflow's own write judges the new generation, not the watch's old copy", async () => {
  await apps.createNamespacedDeployment({ namespace: ns, body: kwokOnly('fresh', 1) });
  await waitForDeploymentAvailable(ns, 'fresh');
  const before = cache.cached(ns, 'fresh');
  assert.equal(before?.deployment?.status?.availableReplicas, 1, 'the watch has seen the ready Deployment');
  // A watch that lags behind the write: its first answers are still the ready 1-replica Deployment.
  let stale = 3;
  const lagging: DeploymentWatch = {
    cached: (namespace, name) => (stale-- > 0 ? before : cache.cached(namespace, name)),
    nextChange: (namespace, name, timeoutMs) => cache.nextChange(namespace, name, timeoutMs),
  };
  await scale('fresh', 3);
  const readiness = await createKubernetesActivities(config, { deployments: lagging }).waitForDeploymentReady(
    {
      namespace: ns,
      name: 'fresh',
      maxWaitMs: 45_000,
      pollMs: 600_000,
    },
  );
  assert.ok(stale <= 0, `the wait saw the stale copy (${stale}, ${JSON.stringify(readiness)})`);
  assert.equal(readiness.ready, true, readiness.message);
  assert.equal(readiness.replicas, 3);
  assert.equal(readiness.availableReplicas, 3);
});

test('a wait that runs out says what it waits for, and a short maxWaitMs ends it on time', async () => {
  // Pods that never schedule: no node has the label the selector asks for.
  const stuck = kwokOnly('stuck', 1);
  const spec = stuck.spec?.template.spec;
  if (spec) spec.nodeSelector = { 'cutover.test/no-such-node': 'true' };
  await apps.createNamespacedDeployment({ namespace: ns, body: stuck });
  const readiness = await activities.waitForDeploymentReady({
    namespace: ns,
    name: 'stuck',
    maxWaitMs: 1_500,
    pollMs: 600_000,
  });
  assert.equal(readiness.ready, false);
  assert.match(readiness.message, /Waiting for deployment stuck\./);
  assert.equal(cache.waiting, 0);
});

test('without a synced watch for the namespace the wait reads the API server every pollMs', async () => {
  const elsewhere = new DeploymentCache({ kubeconfig: config, namespace: 'kube-system', log: quiet });
  await elsewhere.start();
  try {
    const polling = createKubernetesActivities(config, { deployments: elsewhere });
    assert.equal(elsewhere.cached(ns, 'polled'), undefined, 'the namespace is not covered');
    await apps.createNamespacedDeployment({ namespace: ns, body: kwokOnly('polled', 0) });
    await scale('polled', 1);
    const readiness = await polling.waitForDeploymentReady({
      namespace: ns,
      name: 'polled',
      maxWaitMs: 45_000,
      pollMs: 100,
    });
    assert.equal(readiness.ready, true, readiness.message);
  } finally {
    await elsewhere.stop();
  }
});

test('a Deployment deleted during the wait fails it as not found, as a direct read does', async () => {
  const stuck = kwokOnly('deleted', 1);
  const spec = stuck.spec?.template.spec;
  if (spec) spec.nodeSelector = { 'cutover.test/no-such-node': 'true' };
  await apps.createNamespacedDeployment({ namespace: ns, body: stuck });
  const waiting = activities.waitForDeploymentReady({
    namespace: ns,
    name: 'deleted',
    maxWaitMs: 45_000,
    pollMs: 600_000,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await apps.deleteNamespacedDeployment({ name: 'deleted', namespace: ns });
  await assert.rejects(waiting, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /read Deployment .*\/deleted/);
    return true;
  });
});
