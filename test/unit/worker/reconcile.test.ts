// reconcileCanary's choices with the boundaries faked: which rollout it starts (workflow id, input)
// for a RolloutPolicy, a broken policy, an undo's attempt token and skip-analysis annotation.
import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconcileCanary, type ReconcileDeps } from '../../../worker/reconcile.ts';
import type { RolloutInput } from '../../../workflows/messages.ts';
import { canaryObject } from '../../support/canaries.ts';

interface Started {
  workflowId: string;
  input: RolloutInput;
}

function deps(overrides: Partial<ReconcileDeps> = {}): {
  deps: ReconcileDeps;
  started: Started[];
  invalid: string[];
} {
  const started: Started[] = [];
  const invalid: string[] = [];
  const client = {
    workflow: {
      start: async (_type: string, options: { workflowId: string; args: [RolloutInput] }) => {
        started.push({ workflowId: options.workflowId, input: options.args[0] });
        return { workflowId: options.workflowId };
      },
      getHandle: (workflowId: string) => ({ workflowId }),
    },
  } as unknown as Client;
  return {
    started,
    invalid,
    deps: {
      client,
      taskQueue: 'q',
      minInterval: '100ms',
      kubernetes: {
        currentRevision: async () => ({ revision: 'rev2', trackedConfigs: {}, image: 'podinfo:6.9.3' }),
        reportInvalidCanary: async (input) => {
          invalid.push(input.message);
          return { found: true, phaseChanged: true, eventsCreated: 1 };
        },
        deploymentImage: async () => 'podinfo:6.9.2',
      },
      ...overrides,
    },
  };
}

function canary(annotations: Record<string, string> = {}): Record<string, unknown> {
  const object = canaryObject('podinfo', 'test', { interval: '1s' });
  return {
    ...object,
    metadata: {
      name: 'podinfo',
      namespace: 'test',
      uid: 'abcdef12-3456',
      labels: { team: 'a' },
      annotations,
    },
    status: { phase: 'Succeeded', lastPromotedSpec: 'rev1', lastAppliedSpec: 'rev1' },
  };
}

test('a new revision starts a rollout with the images and no policy', async () => {
  const { deps: d, started } = deps();
  const outcome = await reconcileCanary(canary(), d);
  assert.equal(outcome.kind, 'rollout');
  assert.equal(started[0]?.workflowId, 'cutover/test/podinfo/rollout/rev2/abcdef12');
  assert.deepEqual(started[0]?.input.images, { from: 'podinfo:6.9.2', to: 'podinfo:6.9.3' });
  assert.equal(started[0]?.input.policy, undefined);
  assert.equal(
    'object' in (started[0]?.input.canary ?? {}),
    false,
    'the stored object stays out of the input',
  );
});

test('the RolloutPolicy that selects the Canary goes into the rollout input', async () => {
  const policy = { name: 'switch', strategy: 'switch' as const };
  const { deps: d, started } = deps({ policies: async () => ({ kind: 'policy', policy }) });
  await reconcileCanary(canary(), d);
  assert.deepEqual(started[0]?.input.policy, policy);
});

test('a broken policy starts nothing and says so on the Canary', async () => {
  const {
    deps: d,
    started,
    invalid,
  } = deps({
    policies: async () => ({
      kind: 'invalid',
      message: 'RolloutPolicy switch: spec.switch.keepWarm: "ten" is not a duration',
    }),
  });
  const outcome = await reconcileCanary(canary(), d);
  assert.equal(outcome.kind, 'invalid');
  assert.deepEqual(started, []);
  assert.match(invalid[0] ?? '', /cannot roll out revision rev2: RolloutPolicy switch: spec.switch.keepWarm/);
});

test('an undo: the attempt token makes a fresh workflow id; skip-analysis applies to that revision only', async () => {
  const { deps: d, started } = deps();
  await reconcileCanary(
    canary({ 'cutover.dev/rollout-attempt': 'u1', 'cutover.dev/skip-analysis-revision': 'rev2' }),
    d,
  );
  assert.equal(started[0]?.workflowId, 'cutover/test/podinfo/rollout/rev2/abcdef12/u1');
  assert.equal(started[0]?.input.canary.skipAnalysis, true);
  const other = deps();
  await reconcileCanary(canary({ 'cutover.dev/skip-analysis-revision': 'rev9' }), other.deps);
  assert.equal(other.started[0]?.input.canary.skipAnalysis, false);
});

/** The metadata of a primary owned by the Canary `name` of `uid`. */
const ownedBy = (uid: string, name: string) => ({
  ownerReferences: [{ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name, uid }],
});

test('a second Canary on a target another Canary owns is refused, naming that Canary', async () => {
  const {
    deps: d,
    started,
    invalid,
  } = deps({
    primaryMetadata: () => ownedBy('other-uid', 'podinfo-first'),
  });
  const outcome = await reconcileCanary(canary(), d);
  assert.equal(outcome.kind, 'invalid');
  assert.deepEqual(started, []);
  assert.match(
    invalid[0] ?? '',
    /is already rolled out by Canary test\/podinfo-first .*Point spec.targetRef at another Deployment/,
  );
  const same = deps({ primaryMetadata: () => ownedBy('abcdef12-3456', 'podinfo') });
  assert.equal(
    (await reconcileCanary(canary(), same.deps)).kind,
    'rollout',
    'its own primary is no conflict',
  );
  const again = deps({ primaryMetadata: () => ownedBy('old-uid', 'podinfo') });
  assert.equal(
    (await reconcileCanary(canary(), again.deps)).kind,
    'rollout',
    'a re-applied namesake goes on',
  );
});

test('a Canary too large to be a rollout input is refused, naming the largest part', async () => {
  const { deps: d, started, invalid } = deps();
  const object = canary();
  const spec = object.spec as { analysis: { webhooks: unknown[] } };
  spec.analysis.webhooks = [
    { name: 'fat', type: 'rollout', url: 'http://127.0.0.1:9/', metadata: { k: 'x'.repeat(300_000) } },
  ];
  const outcome = await reconcileCanary(object, d);
  assert.equal(outcome.kind, 'invalid');
  assert.deepEqual(started, []);
  assert.match(
    invalid[0] ?? '',
    /over the limit of 256 KiB: spec.analysis.webhooks\[fat\].metadata is 29\d KiB/,
  );
});

test('a retry: a failed revision whose attempt token names it starts again under that token, once per process', async () => {
  const failed = (annotations: Record<string, string>): Record<string, unknown> => ({
    ...canary(annotations),
    status: { phase: 'Failed', lastPromotedSpec: 'rev1', lastAppliedSpec: 'rev2' },
  });
  const lastStarted = new Map<string, string>();
  const { deps: d, started } = deps({ lastStarted });
  assert.equal(
    (await reconcileCanary(failed({}), d)).kind,
    'up-to-date',
    'no token: the failed revision stays failed',
  );
  assert.equal(
    (await reconcileCanary(failed({ 'cutover.dev/rollout-attempt': 'rev9.x' }), d)).kind,
    'up-to-date',
    'a token of another revision',
  );
  const outcome = await reconcileCanary(failed({ 'cutover.dev/rollout-attempt': 'rev2.abc' }), d);
  assert.equal(outcome.kind, 'rollout');
  assert.equal(started[0]?.workflowId, 'cutover/test/podinfo/rollout/rev2/abcdef12/rev2.abc');
  // The same process sees the Canary again (still Failed before the new rollout reports): nothing more.
  assert.equal(
    (await reconcileCanary(failed({ 'cutover.dev/rollout-attempt': 'rev2.abc' }), d)).kind,
    'up-to-date',
  );
  assert.equal(started.length, 1);
});
