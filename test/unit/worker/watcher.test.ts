// The revision watcher with its informers and clients faked at the boundary: how many reconciles run at
// once, what happens to one that fails, and that its indexes forget deleted objects.
import * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RevisionWatcher } from '../../../worker/watcher.ts';
import type { DeploymentEvents, InformerFactory, WatcherOptions } from '../../../worker/watcher.ts';

type Handler = (object: k8s.KubernetesObject) => void;

/** An informer that lists `initial` on start and emits what the test tells it to. */
class FakeInformer {
  private readonly handlers = new Map<string, Handler[]>();
  private readonly initial: k8s.KubernetesObject[];
  constructor(initial: k8s.KubernetesObject[] = []) {
    this.initial = initial;
  }
  on(event: string, handler: Handler): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
  }
  emit(event: 'add' | 'update' | 'delete', object: k8s.KubernetesObject): void {
    for (const handler of this.handlers.get(event) ?? []) handler(object);
  }
  private readonly listed: k8s.KubernetesObject[] = [];
  async start(): Promise<void> {
    for (const object of this.initial) {
      this.listed.push(object);
      this.emit('add', object);
    }
  }
  list(): k8s.KubernetesObject[] {
    return this.listed;
  }
  async stop(): Promise<void> {}
}

const kubeconfig = new k8s.KubeConfig();
kubeconfig.loadFromOptions({
  clusters: [{ name: 'fake', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
  users: [{ name: 'fake' }],
  contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
  currentContext: 'fake',
});

function canary(namespace: string, name: string, generation = 1): k8s.KubernetesObject {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, generation },
    spec: {
      provider: 'kubernetes',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      service: { port: 9898 },
      analysis: { interval: '1s', iterations: 3, threshold: 2 },
    },
  } as k8s.KubernetesObject;
}

function deployment(namespace: string, name: string, generation = 1, configMap?: string): k8s.V1Deployment {
  return {
    metadata: { name, namespace, generation },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'example/app:1',
              ...(configMap ? { envFrom: [{ configMapRef: { name: configMap } }] } : {}),
            },
          ],
        },
      },
    },
  };
}

interface Harness {
  watcher: RevisionWatcher;
  /** As the worker does: the shared Deployment informer first, then the watcher. */
  start(): Promise<void>;
  canaries: FakeInformer;
  deployments: FakeInformer & DeploymentEvents;
  configMaps: FakeInformer;
  started: string[];
  peak: () => number;
}

function harness(
  initial: { canaries: k8s.KubernetesObject[]; deployments: k8s.V1Deployment[] },
  overrides: Partial<WatcherOptions> & { revisionFails?: (key: string) => boolean } = {},
): Harness {
  const canaries = new FakeInformer(initial.canaries);
  const deployments = new FakeInformer(initial.deployments) as FakeInformer & DeploymentEvents;
  const configMaps = new FakeInformer();
  const informerFactory = ((_config: k8s.KubeConfig, path: string) =>
    path.includes('canaries')
      ? canaries
      : path.includes('configmaps')
        ? configMaps
        : new FakeInformer()) as unknown as InformerFactory;
  const started: string[] = [];
  let inFlight = 0;
  let peak = 0;
  const perCanary = new Map<string, number>();
  const client = {
    workflow: {
      async start(_type: string, options: { workflowId: string }) {
        started.push(options.workflowId);
        return { workflowId: options.workflowId };
      },
      getHandle: (workflowId: string) => ({ workflowId }),
    },
  } as unknown as Client;
  const watcher = new RevisionWatcher({
    kubeconfig,
    client,
    taskQueue: 'test',
    minInterval: '100ms',
    lastStarted: new Map(),
    deployments,
    informerFactory,
    retryDelayMs: 5,
    deletedReplicasTtlMs: 0,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    kubernetes: {
      async currentRevision({ namespace, target }) {
        const key = `${namespace}/${target}`;
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        perCanary.set(key, (perCanary.get(key) ?? 0) + 1);
        assert.equal(perCanary.get(key), 1, `two reconciles of ${key} at once`);
        try {
          await sleep(3);
          if (overrides.revisionFails?.(key)) throw new Error('the API server is busy');
          return { revision: 'rev1', trackedConfigs: {} };
        } finally {
          perCanary.set(key, (perCanary.get(key) ?? 1) - 1);
          inFlight -= 1;
        }
      },
      async reportInvalidCanary() {
        assert.fail('every test canary is valid');
      },
    },
    ...overrides,
  });
  const start = async (): Promise<void> => {
    await deployments.start();
    await watcher.start();
  };
  return { watcher, start, canaries, deployments, configMaps, started, peak: () => peak };
}

function many(count: number) {
  const names = Array.from({ length: count }, (_, i) => ({ namespace: `ns-${i % 10}`, name: `app-${i}` }));
  return {
    canaries: names.map((n) => canary(n.namespace, n.name)),
    deployments: names.flatMap((n) => [
      deployment(n.namespace, n.name, 1, `${n.name}-config`),
      deployment(n.namespace, `${n.name}-primary`),
    ]),
  };
}

test('1,000 canaries seen at start are reconciled in parallel, at most the concurrency at once, each once', async () => {
  const h = harness(many(1000), { reconcileConcurrency: 16 });
  await h.start();
  await h.watcher.idle();
  assert.equal(h.started.length, 1000);
  assert.equal(new Set(h.started).size, 1000);
  assert.equal(h.peak(), 16);
  await h.watcher.stop();
});

test('a reconcile that fails is retried with backoff until it succeeds', async () => {
  let failures = 0;
  const h = harness(
    { canaries: [canary('shop', 'podinfo')], deployments: [deployment('shop', 'podinfo')] },
    { revisionFails: () => failures++ < 3 },
  );
  await h.start();
  for (let i = 0; i < 100 && h.started.length === 0; i++) await sleep(10);
  assert.equal(failures, 4);
  assert.equal(h.started.length, 1);
  assert.equal(h.watcher.sizes().retries, 0, 'a success forgets the retry');
  await h.watcher.stop();
});

test('a new generation of a target reconciles its canary; a status update does not', async () => {
  let reconciles = 0;
  const counted = harness(
    { canaries: [canary('shop', 'podinfo')], deployments: [deployment('shop', 'podinfo')] },
    { onReconciled: () => reconciles++ },
  );
  await counted.start();
  await counted.watcher.idle();
  assert.equal(reconciles, 1);
  counted.deployments.emit('update', {
    ...deployment('shop', 'podinfo'),
    status: { readyReplicas: 1 },
  } as k8s.KubernetesObject);
  await counted.watcher.idle();
  assert.equal(reconciles, 1, 'status only');
  counted.deployments.emit('update', deployment('shop', 'podinfo', 2));
  await counted.watcher.idle();
  assert.equal(reconciles, 2, 'new generation');
  counted.configMaps.emit('update', { metadata: { name: 'unrelated', namespace: 'shop' } });
  await counted.watcher.idle();
  assert.equal(reconciles, 2, 'a config nobody reads');
  await counted.watcher.stop();
});

test('the indexes forget deleted Canaries, Deployments and configs: memory follows what exists', async () => {
  const initial = many(200);
  const h = harness(initial);
  await h.start();
  // Many rollouts of every canary: new target generations, as the rollouts' own scale writes make.
  for (let generation = 2; generation <= 6; generation++) {
    for (const d of initial.deployments) {
      h.deployments.emit('update', { ...d, metadata: { ...d.metadata, generation } });
    }
    await h.watcher.idle();
  }
  const busy = h.watcher.sizes();
  assert.equal(busy.canaries, 200);
  assert.equal(busy.generations, 400);
  assert.equal(busy.configReaders, 200);

  for (const c of initial.canaries) h.canaries.emit('delete', c);
  for (const d of initial.deployments) h.deployments.emit('delete', d);
  await h.watcher.idle();
  await sleep(5); // the deleted Deployments' replicas are kept for deletedReplicasTtlMs
  assert.deepEqual(h.watcher.sizes(), {
    canaries: 0,
    targets: 0,
    generations: 0,
    replicas: 0,
    configReaders: 0,
    configsRead: 0,
    retries: 0,
    queued: 0,
    lastStarted: 0,
  });
  await h.watcher.stop();
});
