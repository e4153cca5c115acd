// The deploy-window gate against the real cluster: checkChangeWindow reads the namespace's labels and
// the RolloutFreezes (cluster-scoped, served by the CRD in deploy/crds), and answers with the verdict a
// rollout shows. Every freeze here selects only this file's namespaces (a label of this run), so that
// rollouts of other tests on the shared cluster are never frozen.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { createChangeWindowActivities } from '../../activities/change-window.ts';
import type { ChangeWindows, ChangeWindowVerdict } from '../../canary/change-control.ts';
import {
  rolloutFreezeGroup,
  rolloutFreezePlural,
  rolloutFreezeVersion,
} from '../../canary/rollout-freeze.ts';
import { ensureCrds } from '../support/canaries.ts';
import { kube, testNamespace } from '../support/cluster.ts';

const run = `${process.pid}-${Date.now().toString(36)}`;
const runLabel = 'cutover.dev/test-run';
let frozen: { name: string; remove: () => Promise<void> };
let other: { name: string; remove: () => Promise<void> };
const created: string[] = [];

const freezePath = { group: rolloutFreezeGroup, version: rolloutFreezeVersion, plural: rolloutFreezePlural };

async function labelNamespace(name: string, labels: Record<string, string>): Promise<void> {
  await kube().core.patchNamespace(
    { name, body: { metadata: { labels } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

async function createFreeze(suffix: string, spec: Record<string, unknown>): Promise<string> {
  const name = `test-${suffix}-${run}`.slice(0, 63);
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  await custom.createClusterCustomObject({
    ...freezePath,
    body: { apiVersion: 'cutover.dev/v1alpha1', kind: 'RolloutFreeze', metadata: { name }, spec },
  });
  created.push(name);
  return name;
}

async function deleteFreeze(name: string): Promise<void> {
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  await custom.deleteClusterCustomObject({ ...freezePath, name }).catch(() => undefined);
}

before(async () => {
  await ensureCrds();
  frozen = await testNamespace('freeze');
  other = await testNamespace('unfrozen');
  await labelNamespace(frozen.name, { [runLabel]: run, tier: 'prod' });
  await labelNamespace(other.name, { [runLabel]: run, tier: 'dev' });
});
after(async () => {
  for (const name of created) await deleteFreeze(name);
  await frozen.remove();
  await other.remove();
});

function closed(verdict: ChangeWindowVerdict) {
  assert.equal(verdict.open, false, `expected the gate closed: ${JSON.stringify(verdict)}`);
  if (verdict.open) throw new Error('open');
  return verdict;
}

test('a freeze selecting prod namespaces of this run closes the gate there, until it is deleted', async () => {
  const name = await createFreeze('prod', {
    namespaceSelector: { matchLabels: { [runLabel]: run, tier: 'prod' } },
    reason: 'Incident 42, ask #sre',
  });
  const { checkChangeWindow } = createChangeWindowActivities(kube().config);
  const verdict = closed(await checkChangeWindow({ namespace: frozen.name }));
  assert.equal(verdict.kind, 'freeze');
  assert.equal(verdict.name, name);
  assert.equal(verdict.opensAt, undefined);
  assert.equal(
    verdict.message,
    `frozen by RolloutFreeze ${name} (Incident 42, ask #sre): opens when RolloutFreeze ${name} is deleted or given an end`,
  );
  assert.deepEqual(await checkChangeWindow({ namespace: other.name }), { open: true }, 'dev is not frozen');

  await deleteFreeze(name);
  assert.deepEqual(
    await checkChangeWindow({ namespace: frozen.name }),
    { open: true },
    'lifted when deleted',
  );
});

test('a freeze with start and end covers only its span, and the verdict says when it ends', async () => {
  const name = await createFreeze('span', {
    namespaceSelector: {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [frozen.name] }],
    },
    start: '2030-12-18T00:00:00+01:00',
    end: '2031-01-04T08:00:00Z',
    reason: 'Year-end freeze',
  });
  const real = createChangeWindowActivities(kube().config);
  assert.deepEqual(
    await real.checkChangeWindow({ namespace: frozen.name }),
    { open: true },
    'not yet in force',
  );
  const during = createChangeWindowActivities(kube().config, {
    now: () => Date.parse('2030-12-24T12:00:00Z'),
  });
  const verdict = closed(await during.checkChangeWindow({ namespace: frozen.name }));
  assert.equal(verdict.name, name);
  assert.equal(verdict.opensAt, '2031-01-04T08:00:00.000Z');
  assert.match(verdict.message, /\(Year-end freeze\): opens Sat 2031-01-04 08:00 UTC$/);
  assert.deepEqual(
    await during.checkChangeWindow({ namespace: other.name }),
    { open: true },
    'selected by name',
  );
  await deleteFreeze(name);
});

test('the policy\u2019s windows and a freeze together: the freeze wins, and the gate opens with the next window', async () => {
  const name = await createFreeze('weekend', {
    namespaceSelector: { matchLabels: { [runLabel]: run } },
    start: '2030-12-06T00:00:00Z',
    end: '2030-12-07T00:00:00Z',
    reason: 'Datacenter move',
  });
  const windows: ChangeWindows = {
    timeZone: 'Europe/Berlin',
    allow: [{ name: 'office-hours', schedule: '0 9 * * 1-5', durationMs: 8 * 3600_000 }],
    deny: [],
  };
  // Friday 2030-12-06, 10:00 in Berlin: inside office hours, but frozen until Saturday.
  const friday = createChangeWindowActivities(kube().config, {
    now: () => Date.parse('2030-12-06T09:00:00Z'),
  });
  const verdict = closed(await friday.checkChangeWindow({ namespace: other.name, windows }));
  assert.equal(verdict.kind, 'freeze');
  assert.equal(verdict.opensAt, '2030-12-09T08:00:00.000Z');
  assert.equal(
    verdict.message,
    `frozen by RolloutFreeze ${name} (Datacenter move): opens Mon 2030-12-09 09:00 Europe/Berlin (08:00 UTC), when deploy window office-hours opens`,
  );
  // Saturday: the freeze has ended, and the gate is closed by the windows alone.
  const saturday = createChangeWindowActivities(kube().config, {
    now: () => Date.parse('2030-12-07T12:00:00Z'),
  });
  const outside = closed(await saturday.checkChangeWindow({ namespace: other.name, windows }));
  assert.equal(outside.kind, 'outside-allow');
  assert.equal(outside.opensAt, '2030-12-09T08:00:00.000Z');
  await deleteFreeze(name);
});

test('a freeze the worker cannot read (a blank reason, which the schema lets through) is ignored', async () => {
  await createFreeze('blank', { namespaceSelector: { matchLabels: { [runLabel]: run } }, reason: '   ' });
  const { checkChangeWindow } = createChangeWindowActivities(kube().config);
  assert.deepEqual(await checkChangeWindow({ namespace: frozen.name }), { open: true });
});

test('the schema refuses a freeze that ends before it starts, or whose times are not RFC 3339', async () => {
  await assert.rejects(
    createFreeze('backwards', {
      namespaceSelector: { matchLabels: { [runLabel]: run } },
      start: '2030-12-18T00:00:00Z',
      end: '2030-12-01T00:00:00Z',
      reason: 'r',
    }),
    (error: unknown) =>
      error instanceof k8s.ApiException &&
      error.code === 422 &&
      /spec.end must be after spec.start/.test(String(error.body)),
  );
  await assert.rejects(
    createFreeze('words', { namespaceSelector: {}, end: 'next monday', reason: 'r' }),
    (error: unknown) =>
      error instanceof k8s.ApiException && error.code === 422 && /date-time/.test(String(error.body)),
  );
});
