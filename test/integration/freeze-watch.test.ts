// The worker's RolloutFreeze watch on the real cluster and the real Temporal: a freeze gets its Ready
// condition (and, when it cannot be read, one Warning event however often it is seen), and creating,
// changing or deleting one signals change-windows-changed to the running rollouts of the namespaces
// its old or new selector selects, and to no others. The rollouts are workflows of type
// rolloutWorkflow on a task queue no worker polls: running, with the CutoverNamespace search attribute
// a real rollout has, and a history that shows each signal.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import {
  rolloutFreezeGroup,
  rolloutFreezePlural,
  rolloutFreezeVersion,
} from '../../canary/rollout-freeze.ts';
import { FreezeWatch, runningRolloutsQuery } from '../../worker/freeze-watch.ts';
import { namespaceSearchAttribute } from '../../workflows/search-attributes.ts';
import { ensureCrds } from '../support/canaries.ts';
import { endpoints, kube, testNamespace } from '../support/cluster.ts';

const run = `${process.pid}-${Date.now().toString(36)}`;
const runLabel = 'cutover.dev/test-run';
const freezePath = { group: rolloutFreezeGroup, version: rolloutFreezeVersion, plural: rolloutFreezePlural };
const custom = () => kube().config.makeApiClient(k8s.CustomObjectsApi);

let connection: Connection;
let client: Client;
let watch: FreezeWatch;
let prod: { name: string; remove: () => Promise<void> };
let dev: { name: string; remove: () => Promise<void> };
const rollouts: Record<'prod' | 'dev', WorkflowHandle | undefined> = { prod: undefined, dev: undefined };
const freezes: string[] = [];
const logged: string[] = [];

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function signals(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter(
    (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'change-windows-changed',
  ).length;
}

async function startRollout(namespace: string): Promise<WorkflowHandle> {
  const handle = await client.workflow.start('rolloutWorkflow', {
    taskQueue: `freeze-watch-${run}`,
    workflowId: `freeze-watch-${namespace}`,
    args: [{}],
    typedSearchAttributes: [{ key: namespaceSearchAttribute, value: namespace }],
  });
  // Visibility lags the start a little: the watch finds the rollout only once it is listed.
  await waitFor(`${namespace}'s rollout in visibility`, async () => {
    for await (const info of client.workflow.list({ query: runningRolloutsQuery([namespace]) })) {
      if (info.workflowId === handle.workflowId) return true;
    }
    return undefined;
  });
  return handle;
}

async function createFreeze(suffix: string, spec: Record<string, unknown>): Promise<string> {
  const name = `test-${suffix}-${run}`.slice(0, 63);
  await custom().createClusterCustomObject({
    ...freezePath,
    body: { apiVersion: 'cutover.dev/v1alpha1', kind: 'RolloutFreeze', metadata: { name }, spec },
  });
  freezes.push(name);
  return name;
}

interface StoredFreeze {
  metadata: { generation: number; uid: string };
  status?: {
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

async function ready(name: string, generation?: number) {
  return waitFor(`the Ready condition of ${name}`, async () => {
    const freeze = (await custom().getClusterCustomObject({ ...freezePath, name })) as StoredFreeze;
    const condition = freeze.status?.conditions?.find((c) => c.type === 'Ready');
    if (condition === undefined) return undefined;
    if (generation !== undefined && freeze.status?.observedGeneration !== generation) return undefined;
    return { condition, freeze };
  });
}

before(async () => {
  await ensureCrds();
  prod = await testNamespace('frz-prod');
  dev = await testNamespace('frz-dev');
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  await kube().core.patchNamespace(
    { name: prod.name, body: { metadata: { labels: { [runLabel]: run, tier: 'prod' } } } },
    merge,
  );
  await kube().core.patchNamespace(
    { name: dev.name, body: { metadata: { labels: { [runLabel]: run, tier: 'dev' } } } },
    merge,
  );
  connection = await Connection.connect({ address: endpoints.temporalAddress });
  client = new Client({ connection, namespace: endpoints.temporalNamespace });
  rollouts.prod = await startRollout(prod.name);
  rollouts.dev = await startRollout(dev.name);
  watch = new FreezeWatch({
    kubeconfig: kube().config,
    client,
    log: { info: (m) => logged.push(m), warn: (m) => logged.push(m) },
  });
  await watch.start();
});

after(async () => {
  await watch?.stop();
  for (const name of freezes)
    await custom()
      .deleteClusterCustomObject({ ...freezePath, name })
      .catch(() => undefined);
  for (const handle of Object.values(rollouts)) await handle?.terminate('test done').catch(() => undefined);
  await connection?.close();
  await prod?.remove();
  await dev?.remove();
});

test('a new freeze is Ready with what it freezes, and only the rollouts it covers are told', async () => {
  const name = await createFreeze('prod', {
    namespaceSelector: { matchLabels: { [runLabel]: run, tier: 'prod' } },
    end: '2030-01-04T00:00:00Z',
    reason: 'Year-end freeze',
  });
  const { condition } = await ready(name, 1);
  assert.equal(condition.status, 'True');
  assert.equal(
    condition.message,
    'Freezes the namespaces its namespaceSelector selects from its creation until 2030-01-04T00:00:00Z: Year-end freeze',
  );
  const prodRollout = rollouts.prod as WorkflowHandle;
  await waitFor('the prod rollout signalled', async () =>
    (await signals(prodRollout)) >= 1 ? true : undefined,
  );
  await watch.idle();
  assert.equal(await signals(rollouts.dev as WorkflowHandle), 0, 'dev is not covered');

  // Its own status write is seen by the watch too: no second signal, no second status write.
  const before = await signals(prodRollout);
  await new Promise((r) => setTimeout(r, 1000));
  await watch.idle();
  assert.equal(await signals(prodRollout), before);

  // Moved to dev: both are told (prod is no longer frozen, dev now is).
  await custom().patchClusterCustomObject(
    {
      ...freezePath,
      name,
      body: { spec: { namespaceSelector: { matchLabels: { [runLabel]: run, tier: 'dev' } } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  await waitFor('both rollouts signalled after the move', async () =>
    (await signals(prodRollout)) > before && (await signals(rollouts.dev as WorkflowHandle)) >= 1
      ? true
      : undefined,
  );

  // Deleted: dev, which it covered last, is told.
  const devBefore = await signals(rollouts.dev as WorkflowHandle);
  await custom().deleteClusterCustomObject({ ...freezePath, name });
  await waitFor('the dev rollout signalled after the delete', async () =>
    (await signals(rollouts.dev as WorkflowHandle)) > devBefore ? true : undefined,
  );
});

test('a freeze that cannot be read says so on its Ready condition and in one Warning event', async () => {
  const name = await createFreeze('blank', {
    namespaceSelector: { matchLabels: { [runLabel]: run } },
    reason: '   ',
  });
  const { condition, freeze } = await ready(name, 1);
  assert.equal(condition.status, 'False');
  assert.equal(condition.reason, 'Invalid');
  assert.match(condition.message ?? '', /is ignored, so it freezes nothing: spec.reason is empty/);
  const events = async () =>
    (
      await kube().core.listNamespacedEvent({
        namespace: 'default',
        fieldSelector: `involvedObject.kind=RolloutFreeze,involvedObject.name=${name}`,
      })
    ).items;
  const [event] = await waitFor('the Warning event', async () => {
    const found = await events();
    return found.length > 0 ? found : undefined;
  });
  assert.equal(event?.type, 'Warning');
  assert.equal(event?.involvedObject.uid, freeze.metadata.uid);
  assert.match(event?.message ?? '', /Say why and whom to ask/);

  // Seen again (a label change is no spec change, a resync, a second replica): nothing new recorded.
  await custom().patchClusterCustomObject(
    { ...freezePath, name, body: { metadata: { labels: { touched: 'yes' } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  await new Promise((r) => setTimeout(r, 1000));
  await watch.idle();
  assert.equal((await events()).length, 1);
});
