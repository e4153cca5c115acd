// RolloutPolicy on the real cluster: the API server serves the CRD with its defaults and columns, and
// the resolver finds the policy that selects a Canary, writes its verdict on the policy (the Ready
// condition and, for a problem, one Warning event), and refuses a broken policy or two at once.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {
  rolloutPolicyGroup,
  rolloutPolicyPlural,
  rolloutPolicyVersion,
} from '../../canary/rollout-policy.ts';
import { validateCanary, type ValidCanary } from '../../canary/validate.ts';
import { resolveRolloutPolicy } from '../../worker/rollout-policies.ts';
import { kube, testNamespace } from '../support/cluster.ts';
import { canaryObject, ensureCrds } from '../support/canaries.ts';

let namespace: { name: string; remove: () => Promise<void> };

before(async () => {
  await ensureCrds();
  namespace = await testNamespace('policy');
});
after(async () => {
  await namespace.remove();
});

const policyPath = (ns: string) => ({
  group: rolloutPolicyGroup,
  version: rolloutPolicyVersion,
  namespace: ns,
  plural: rolloutPolicyPlural,
});

interface StoredPolicy {
  metadata: { name: string; uid: string; generation: number; resourceVersion: string };
  spec: { strategy?: string; switch?: { keepWarm?: string } };
  status?: {
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

async function createPolicy(ns: string, name: string, spec: Record<string, unknown>): Promise<StoredPolicy> {
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  return (await custom.createNamespacedCustomObject({
    ...policyPath(ns),
    body: { apiVersion: 'cutover.dev/v1alpha1', kind: 'RolloutPolicy', metadata: { name }, spec },
  })) as StoredPolicy;
}

async function readPolicy(ns: string, name: string): Promise<StoredPolicy> {
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  return (await custom.getNamespacedCustomObject({ ...policyPath(ns), name })) as StoredPolicy;
}

async function deletePolicy(ns: string, name: string): Promise<void> {
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  await custom.deleteNamespacedCustomObject({ ...policyPath(ns), name });
}

async function policyEvents(ns: string, name: string): Promise<k8s.CoreV1Event[]> {
  const list = await kube().core.listNamespacedEvent({
    namespace: ns,
    fieldSelector: `involvedObject.kind=RolloutPolicy,involvedObject.name=${name}`,
  });
  return list.items;
}

function ready(policy: StoredPolicy) {
  return policy.status?.conditions?.find((c) => c.type === 'Ready');
}

/** A Canary as the watcher would hand it over: interval 1s, threshold 2, one builtin metric. */
function canaryFor(ns: string, name: string, labels: Record<string, string>) {
  const object = canaryObject(name, ns, {
    interval: '1s',
    threshold: 2,
    metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' }],
  });
  (object.metadata as Record<string, unknown>).labels = labels;
  const validation = validateCanary(object, { minInterval: '100ms' });
  assert.ok(validation.ok);
  const valid: ValidCanary = validation.canary;
  return { ref: { name, namespace: ns, labels }, valid };
}

test('the API server fills the policy\u2019s defaults, refuses what its schema can check and serves the kubectl get columns', async () => {
  const ns = namespace.name;
  const created = await createPolicy(ns, 'defaults', {
    selector: { matchLabels: { app: 'none' } },
    strategy: 'switch',
    switch: {},
  });
  assert.equal(created.spec.switch?.keepWarm, '10m');
  const copy = await createPolicy(ns, 'copy-default', { selector: { matchLabels: { app: 'none' } } });
  assert.equal(copy.spec.strategy, 'copy');
  const crd = await kube()
    .config.makeApiClient(k8s.ApiextensionsV1Api)
    .readCustomResourceDefinition({ name: `${rolloutPolicyPlural}.${rolloutPolicyGroup}` });
  assert.deepEqual(
    crd.spec.versions[0]?.additionalPrinterColumns?.map((c) => c.name),
    ['Strategy', 'Keep-Warm', 'Ready', 'Age'],
  );
  assert.deepEqual(crd.spec.names.shortNames, ['rp']);
  await assert.rejects(
    createPolicy(ns, 'bad-strategy', { selector: {}, strategy: 'blue' }),
    (error: unknown) => error instanceof k8s.ApiException && error.code === 422,
    'the schema refuses what it can check without the Canary',
  );
  await deletePolicy(ns, 'defaults');
  await deletePolicy(ns, 'copy-default');
});

test('a Canary no policy selects resolves to none, and the policy that selects it is resolved and marked Ready', async () => {
  const ns = namespace.name;
  const { config } = kube();
  const podinfo = canaryFor(ns, 'podinfo', { app: 'podinfo', tier: 'web' });
  assert.deepEqual(await resolveRolloutPolicy(config, podinfo.ref, podinfo.valid, { minInterval: '100ms' }), {
    kind: 'none',
  });

  await createPolicy(ns, 'other-app', { selector: { matchLabels: { app: 'other' } }, strategy: 'switch' });
  await createPolicy(ns, 'switch-web', {
    selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] },
    strategy: 'switch',
    switch: { keepWarm: '2m', analysis: { threshold: 1 } },
  });
  const resolution = await resolveRolloutPolicy(config, podinfo.ref, podinfo.valid, { minInterval: '100ms' });
  assert.equal(resolution.kind, 'policy', JSON.stringify(resolution));
  assert.ok(resolution.kind === 'policy');
  assert.deepEqual(resolution.policy, {
    name: 'switch-web',
    strategy: 'switch',
    switch: {
      keepWarmMs: 120_000,
      analysis: { intervalMs: 1_000, threshold: 1, metrics: podinfo.valid.analysis.metrics },
    },
  });

  const stored = await readPolicy(ns, 'switch-web');
  assert.equal(ready(stored)?.status, 'True');
  assert.equal(ready(stored)?.reason, 'Resolved');
  assert.match(ready(stored)?.message ?? '', /Canary .*\/podinfo: strategy switch, blue kept warm 2m/);
  assert.equal(stored.status?.observedGeneration, stored.metadata.generation);
  assert.equal(
    ready(await readPolicy(ns, 'other-app')),
    undefined,
    'a policy that does not select it is untouched',
  );

  // Resolving again writes nothing: the condition says so already.
  await resolveRolloutPolicy(config, podinfo.ref, podinfo.valid, { minInterval: '100ms' });
  assert.equal(
    (await readPolicy(ns, 'switch-web')).metadata.resourceVersion,
    stored.metadata.resourceVersion,
  );
  assert.deepEqual(await policyEvents(ns, 'switch-web'), []);

  await deletePolicy(ns, 'other-app');
  await deletePolicy(ns, 'switch-web');
});

test('a broken policy stops the rollout with a message naming it, the field and the fix, and says so on itself once', async () => {
  const ns = namespace.name;
  const { config } = kube();
  const podinfo = canaryFor(ns, 'broken-target', { app: 'broken-target' });
  // Valid for the schema; too short for one check at the Canary's interval.
  await createPolicy(ns, 'too-short', {
    selector: { matchLabels: { app: 'broken-target' } },
    strategy: 'switch',
    switch: { keepWarm: '1s', analysis: { interval: '2s' } },
  });
  const resolution = await resolveRolloutPolicy(config, podinfo.ref, podinfo.valid, { minInterval: '100ms' });
  assert.equal(resolution.kind, 'invalid');
  const message = resolution.kind === 'invalid' ? resolution.message : '';
  assert.match(
    message,
    new RegExp(`RolloutPolicy ${ns}/too-short cannot apply to Canary ${ns}/broken-target`),
  );
  assert.match(message, /spec\.switch\.keepWarm is "1s", shorter than the post-promotion interval of 2s/);
  assert.match(message, /Set keepWarm to 4s or more/);

  const stored = await readPolicy(ns, 'too-short');
  assert.equal(ready(stored)?.status, 'False');
  assert.equal(ready(stored)?.reason, 'Invalid');
  assert.equal(ready(stored)?.message, message);
  assert.equal(stored.status?.observedGeneration, 1);
  await resolveRolloutPolicy(config, podinfo.ref, podinfo.valid, { minInterval: '100ms' });
  const events = await policyEvents(ns, 'too-short');
  assert.equal(events.length, 1, 'the same problem is one event, however often it is found');
  assert.equal(events[0]?.type, 'Warning');
  assert.equal(events[0]?.reason, 'Invalid');
  assert.equal(events[0]?.message, message);

  // Fixed, it is Ready again for the next generation.
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  await custom.patchNamespacedCustomObject(
    { ...policyPath(ns), name: 'too-short', body: { spec: { switch: { keepWarm: '10s' } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const fixed = await resolveRolloutPolicy(config, podinfo.ref, podinfo.valid, { minInterval: '100ms' });
  assert.equal(fixed.kind, 'policy');
  const after = await readPolicy(ns, 'too-short');
  assert.equal(ready(after)?.status, 'True');
  assert.equal(after.status?.observedGeneration, 2);
  await deletePolicy(ns, 'too-short');
});

test('two policies selecting one Canary stop its rollout and both are told; a broken selector selects nothing', async () => {
  const ns = namespace.name;
  const { config } = kube();
  const podinfo = canaryFor(ns, 'contested', { app: 'contested', team: 'a' });
  await createPolicy(ns, 'by-app', { selector: { matchLabels: { app: 'contested' } }, strategy: 'switch' });
  await createPolicy(ns, 'everything', { selector: {} });
  await createPolicy(ns, 'broken-selector', {
    selector: { matchExpressions: [{ key: 'team', operator: 'In' }] },
  });

  const resolution = await resolveRolloutPolicy(config, podinfo.ref, podinfo.valid, { minInterval: '100ms' });
  assert.equal(resolution.kind, 'invalid');
  const message = resolution.kind === 'invalid' ? resolution.message : '';
  assert.match(message, /selected by 2 RolloutPolicies \(by-app, everything\)/);
  assert.match(message, /so that only one selects it/);
  for (const name of ['by-app', 'everything']) {
    const stored = await readPolicy(ns, name);
    assert.equal(ready(stored)?.reason, 'Conflict', name);
    assert.equal((await policyEvents(ns, name)).length, 1, name);
  }
  const broken = await readPolicy(ns, 'broken-selector');
  assert.equal(ready(broken)?.status, 'False');
  assert.match(
    ready(broken)?.message ?? '',
    /selects no Canary: spec\.selector\.matchExpressions\[0\]\.values is empty/,
  );

  await deletePolicy(ns, 'everything');
  const single = await resolveRolloutPolicy(config, podinfo.ref, podinfo.valid, { minInterval: '100ms' });
  assert.equal(single.kind === 'policy' && single.policy.name, 'by-app');
  for (const name of ['by-app', 'broken-selector']) await deletePolicy(ns, name);
});

test('approvals, windows and the inconclusive action are served with their defaults, refused by the schema where it can, and resolved', async () => {
  const ns = namespace.name;
  const { config } = kube();
  const created = (await createPolicy(ns, 'change-control', {
    selector: { matchLabels: { app: 'governed' } },
    approvals: { required: 2, from: { users: ['alice', 'bob', 'carol'] }, validFor: '24h' },
    windows: { allow: [{ name: 'office-hours', schedule: '0 9 * * 1-5', duration: '8h' }] },
    analysis: { inconclusive: { action: 'pause' } },
  })) as StoredPolicy & { spec: Record<string, Record<string, unknown>> };
  assert.equal(created.spec.approvals?.requireVerified, true, 'defaulted by the API server');
  assert.equal(created.spec.windows?.timeZone, 'UTC');
  assert.deepEqual(created.spec.analysis?.inconclusive, { action: 'pause' });
  for (const [name, spec] of [
    ['zero-approvers', { approvals: { required: 0 } }],
    ['bad-action', { analysis: { inconclusive: { action: 'retry' } } }],
    ['bad-duration', { windows: { allow: [{ schedule: '0 9 * * *', duration: '1d' }] } }],
    ['no-schedule', { windows: { deny: [{ duration: '1h' }] } }],
  ] as const) {
    await assert.rejects(
      createPolicy(ns, name, { selector: {}, ...spec }),
      (error: unknown) => error instanceof k8s.ApiException && error.code === 422,
      name,
    );
  }
  const governed = canaryFor(ns, 'governed', { app: 'governed' });
  const resolution = await resolveRolloutPolicy(config, governed.ref, governed.valid, {
    minInterval: '100ms',
  });
  assert.ok(resolution.kind === 'policy', JSON.stringify(resolution));
  assert.deepEqual(resolution.policy.approvals, {
    required: 2,
    users: ['alice', 'bob', 'carol'],
    groups: [],
    validForMs: 86_400_000,
    requireVerified: true,
  });
  assert.deepEqual(resolution.policy.windows, {
    timeZone: 'UTC',
    allow: [{ name: 'office-hours', schedule: '0 9 * * 1-5', durationMs: 8 * 3_600_000 }],
    deny: [],
  });
  assert.deepEqual(resolution.policy.inconclusive, { action: 'pause', pauseAfter: 3 });

  // What the schema cannot check (the time zone, the schedule) is said on the policy.
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  await custom.patchNamespacedCustomObject(
    {
      ...policyPath(ns),
      name: 'change-control',
      body: {
        spec: { windows: { timeZone: 'Europe/Berln', allow: [{ schedule: '0 9 * *', duration: '8h' }] } },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  const refused = await resolveRolloutPolicy(config, governed.ref, governed.valid, { minInterval: '100ms' });
  assert.equal(refused.kind, 'invalid');
  const message = refused.kind === 'invalid' ? refused.message : '';
  assert.match(message, /spec.windows.timeZone is "Europe\/Berln"/);
  assert.match(message, /spec.windows.allow\[0\].schedule cannot be read: "0 9 \* \*" has 4 fields/);
  const condition = ready(await readPolicy(ns, 'change-control'));
  assert.equal(condition?.status, 'False');
  assert.equal(condition?.message, message);
  await deletePolicy(ns, 'change-control');
});

test('an API server that never answers fails the resolution at its deadline', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'silent', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'silent', cluster: 'silent', user: 'nobody' }],
    currentContext: 'silent',
  });
  const podinfo = canaryFor('default', 'podinfo', {});
  const started = Date.now();
  try {
    await assert.rejects(
      resolveRolloutPolicy(config, podinfo.ref, podinfo.valid, { timeoutMs: 300 }),
      /Could not list the RolloutPolicies in namespace default: .*(timeout|aborted)/i,
    );
    assert.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
