// Steering with an identity the API server verified, on the real stack: test users of the local
// cluster (client certificates signed with its CA), the admission policy and the ClusterRoles of
// deploy/base, RolloutActions created as those users, and a `cutover worker` process that turns the
// admitted ones into Updates of real rollouts (or a retry) and writes the outcome a user sees.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { runningRollout } from '../../client/canary-lookup.ts';
import { waitFor } from '../../stack/processes.ts';
import {
  rolloutActionGroup,
  rolloutActionPlural,
  rolloutActionVersion,
} from '../../canary/rollout-action.ts';
import type { SteeringActionName } from '../../workflows/steering-messages.ts';
import type { rolloutWorkflow } from '../../workflows/rollout.ts';
import { statusQuery } from '../../workflows/messages.ts';
import { createRolloutAction, selfIdentity, type CreateResult } from '../../client/rollout-actions.ts';
import { canaryEvents, canaryObject, readCanaryStatus } from '../support/canaries.ts';
import { runCutover, type CliRun } from '../support/cli-process.ts';
import { endpoints, kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { bindRole, clusterUsers, waitForGrant, type ClusterUsers } from '../support/cluster-users.ts';
import { ensureRolloutActionAdmission } from '../support/rollout-action-admission.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';

const plural = { group: rolloutActionGroup, version: rolloutActionVersion, plural: rolloutActionPlural };

let people: ClusterUsers;
let ns: { name: string; remove: () => Promise<void> };

/** alice approves (as a release manager), bob operates, carol approves by name, mallory may nothing. */
before(async () => {
  ns = await testNamespace('ract');
  await ensureRolloutActionAdmission(ns.name);
  people = await clusterUsers([
    { name: 'alice', groups: ['release-managers'] },
    { name: 'bob' },
    { name: 'carol' },
    { name: 'mallory' },
  ]);
  await bindRole(ns.name, 'release-approvers', 'cutover-approver', {
    groups: ['release-managers'],
    users: ['carol'],
  });
  await bindRole(ns.name, 'operators', 'cutover-operator', { users: ['bob'] });
  // RBAC's cache takes a moment to see new bindings.
  await waitForGrant(ns.name, 'bob', [], 'promote');
});

after(async () => {
  people.remove();
  await ns.remove();
});

function user(name: string): { config: k8s.KubeConfig; kubeconfig: string } {
  const found = people.users[name];
  assert.ok(found, name);
  return found;
}

/** A RolloutAction created as `who`, claiming `claim` (default: who they are). */
async function create(
  who: string,
  action: SteeringActionName,
  claim: { user?: string; groups?: string[] } = {},
  canary = 'podinfo',
): Promise<CreateResult> {
  const { config } = user(who);
  const identity = await selfIdentity(config);
  return createRolloutAction(config, {
    namespace: ns.name,
    canary,
    action,
    reason: `${who} says so`,
    user: claim.user ?? identity.username,
    groups: claim.groups ?? identity.groups,
  });
}

function refusal(result: CreateResult): string {
  assert.equal(result.ok, false, 'refused');
  return result.ok ? '' : result.refusal.message;
}

type Run = CliRun;

/** `cutover ARGS` as `who` (their kubeconfig), as a user runs it. */
function cutoverAs(who: string, ...args: string[]): Promise<Run> {
  return runCutover(args, { KUBECONFIG: user(who).kubeconfig });
}

describe('admission: who may create a RolloutAction', () => {
  test('admitted for the user the API server authenticated, with the verb of the action', async () => {
    const identity = await selfIdentity(user('alice').config);
    assert.equal(identity.username, 'alice');
    assert.deepEqual([...identity.groups].sort(), ['release-managers', 'system:authenticated']);
    const approval = await create('alice', 'approve');
    assert.ok(approval.ok, JSON.stringify(approval));
    assert.match(approval.name, /^podinfo-approve-[a-z0-9]{5}$/);
    const promotion = await create('bob', 'promote');
    assert.ok(promotion.ok, JSON.stringify(promotion));
    // Carol is bound by name: groups are [system:authenticated] only, and they must match too.
    assert.ok((await create('carol', 'approve')).ok);
  });

  test('refused when spec.user is not the creator', async () => {
    // Bob may create RolloutActions (an operator), but not as alice, groups and all.
    const message = refusal(
      await create('bob', 'approve', {
        user: 'alice',
        groups: ['release-managers', 'system:authenticated'],
      }),
    );
    assert.match(
      message,
      /^refused by the admission policy cutover-rollout-actions: rule spec\.user: the API server authenticated you as bob, but spec\.user says alice;/,
    );
    // The cluster admin (system:masters may do anything RBAC-wise) cannot speak for alice either.
    const admin = await createRolloutAction(kube().config, {
      namespace: ns.name,
      canary: 'podinfo',
      action: 'approve',
      reason: 'on behalf of alice',
      user: 'alice',
      groups: ['release-managers', 'system:authenticated'],
    });
    const { username } = await selfIdentity(kube().config);
    assert.ok(
      refusal(admin).includes(
        `rule spec.user: the API server authenticated you as ${username}, but spec.user says alice`,
      ),
      refusal(admin),
    );
  });

  test('refused when spec.groups are not the creator’s, even with one group more', async () => {
    const message = refusal(
      await create('bob', 'approve', { groups: ['system:authenticated', 'release-managers'] }),
    );
    assert.match(
      message,
      /rule spec\.groups: the API server authenticated bob with groups \[system:authenticated\], but spec\.groups says \[system:authenticated, release-managers\]; they must be the same set/,
    );
    assert.match(
      refusal(await create('alice', 'approve', { groups: ['release-managers'] })),
      /rule spec\.groups/,
    );
  });

  test('refused when RBAC does not grant the verb, naming it and the role that grants it', async () => {
    // Separation of duties: an operator does not approve, an approver does not promote.
    assert.match(
      refusal(await create('bob', 'approve')),
      new RegExp(
        `rule RBAC: bob may not approve canary ${ns.name}/podinfo: it needs the verb approve on canaries\\.cutover\\.dev, which ClusterRole cutover-approver grants; who may act is whoever is bound to it in ${ns.name}`,
      ),
    );
    assert.match(
      refusal(await create('alice', 'retry')),
      /rule RBAC: alice may not retry .* ClusterRole cutover-operator grants/,
    );
    // Mallory has no role at all: RBAC refuses the create itself.
    const mallory = await create('mallory', 'approve');
    assert.ok(!mallory.ok && mallory.refusal.kind === 'rbac');
    assert.match(
      refusal(mallory),
      new RegExp(
        `mallory may not create RolloutActions in ${ns.name}: approve needs ClusterRole cutover-approver`,
      ),
    );
  });

  test('refused when the spec of an admitted one is changed; its status is the worker’s to write', async () => {
    const created = await create('bob', 'pause');
    assert.ok(created.ok);
    // The cluster admin may update anything RBAC-wise; the policy still keeps the spec as admitted.
    const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
    const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    await assert.rejects(
      custom.patchNamespacedCustomObject(
        {
          ...plural,
          namespace: ns.name,
          name: created.name,
          body: { spec: { user: 'alice', reason: 'changed' } },
        },
        merge,
      ),
      (error: unknown) => {
        assert.ok(error instanceof k8s.ApiException);
        assert.match(
          String(error.body),
          /rule immutable spec: a RolloutAction cannot be changed once created/,
        );
        return true;
      },
    );
    await custom.patchNamespacedCustomObjectStatus(
      {
        ...plural,
        namespace: ns.name,
        name: created.name,
        body: { status: { phase: 'Refused', message: 'test' } },
      },
      merge,
    );
  });

  test('the CLI prints one line naming the rule and who may act, and exits 7', async () => {
    const bob = await cutoverAs('bob', 'approve', `${ns.name}/podinfo`, '--reason', 'lgtm', '--wait', '0');
    assert.equal(bob.code, 7, bob.stderr);
    assert.equal(bob.stderr.trim().split('\n').length, 1, bob.stderr);
    assert.match(
      bob.stderr,
      /^cutover: approve of \S+\/podinfo refused by the admission policy cutover-rollout-actions: rule RBAC: bob may not approve .* ClusterRole cutover-approver grants; who may act is whoever is bound to it in/,
    );
    const mallory = await cutoverAs('mallory', 'promote', `${ns.name}/podinfo`, '--reason', 'trust me');
    assert.equal(mallory.code, 7, mallory.stderr);
    assert.match(
      mallory.stderr,
      /mallory may not create RolloutActions in \S+: promote needs ClusterRole cutover-operator/,
    );
    const usage = await cutoverAs('bob', 'pause', `${ns.name}/podinfo`);
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /pause needs --reason TEXT/);
  });
});

// ---- the worker acts on admitted ones ----

async function setMessage(namespace: string, message: string): Promise<void> {
  const container = podinfoDeployment('podinfo', namespace, 1, [`--ui-message=${message}`]).spec?.template
    .spec?.containers[0];
  await kube().apps.patchNamespacedDeployment(
    { name: 'podinfo', namespace, body: { spec: { template: { spec: { containers: [container] } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}

async function waitForPhase(namespace: string, phases: string[], timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `Canary phase ${phases.join(' or ')}`,
    async () => phases.includes(String((await readCanaryStatus(namespace, 'podinfo')).phase)),
    timeoutMs,
  );
}

async function rolloutActionEvents(
  namespace: string,
  name: string,
): Promise<{ type: string; reason: string; message: string }[]> {
  const events = await kube().core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.kind=RolloutAction,involvedObject.name=${name}`,
  });
  return events.items.map((e) => ({ type: e.type ?? '', reason: e.reason ?? '', message: e.message ?? '' }));
}

async function rolloutActionStatus(namespace: string, name: string): Promise<Record<string, unknown>> {
  const object = (await kube()
    .config.makeApiClient(k8s.CustomObjectsApi)
    .getNamespacedCustomObject({ ...plural, namespace, name })) as { status?: Record<string, unknown> };
  return object.status ?? {};
}

async function rolloutActionUid(namespace: string, name: string): Promise<string> {
  const object = (await kube()
    .config.makeApiClient(k8s.CustomObjectsApi)
    .getNamespacedCustomObject({ ...plural, namespace, name })) as { metadata: { uid: string } };
  return object.metadata.uid;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  let value: T | undefined;
  await waitFor(what, async () => (value = await probe()) !== undefined, timeoutMs);
  return value as T;
}

/** The RolloutAction a CLI run created, from its JSON output. */
function createdName(run: Run): string {
  const data = JSON.parse(run.stdout) as { rolloutAction: string };
  return data.rolloutAction.split('/')[1] ?? '';
}

describe('the worker turns admitted RolloutActions into steering', () => {
  let worker: WorkerProcess;
  let hooks: WebhookReceiver;
  let connection: Connection;
  let temporal: Client;
  /** The revision of the last rollout a test finished with. */
  let lastRevision = '';

  before(async () => {
    connection = await Connection.connect({ address: endpoints.temporalAddress });
    temporal = new Client({ connection, namespace: endpoints.temporalNamespace });
    hooks = await startWebhookReceiver();
    worker = await startWorkerProcess({ namespace: ns.name, taskQueue: `ract-${ns.name}` });
    const { apps, config } = kube();
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: podinfoDeployment('podinfo', ns.name, 1),
    });
    await config.makeApiClient(k8s.CustomObjectsApi).createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns.name,
      plural: 'canaries',
      body: canaryObject('podinfo', ns.name, {
        interval: '300ms',
        iterations: 3,
        threshold: 1,
        webhooks: [{ name: 'smoke', type: 'rollout', url: hooks.url('/smoke'), timeout: '2s' }],
      }),
    });
    await waitForPhase(ns.name, ['Initialized'], 60_000);
  });

  after(async () => {
    if (worker) await worker.stop();
    await hooks?.close();
    await connection?.close();
  });

  test('refused with the reason when the Canary has no running rollout; a Warning event says so', async (t) => {
    try {
      const run = await cutoverAs(
        'bob',
        'promote',
        `${ns.name}/podinfo`,
        '--reason',
        'ship it',
        '-o',
        'json',
      );
      assert.equal(run.code, 3, run.stderr);
      assert.match(
        run.stderr,
        /^cutover: promote of \S+\/podinfo refused \(RolloutAction \S+\): no rollout of \S+\/podinfo is running: nothing to promote/,
      );
      const name = createdName(run);
      const status = await rolloutActionStatus(ns.name, name);
      assert.equal(status.phase, 'Refused');
      assert.equal(status.reason, 'NoRunningRollout');
      assert.ok(status.observedAt);
      const events = await rolloutActionEvents(ns.name, name);
      assert.deepEqual(
        events.map((e) => [e.type, e.reason]),
        [['Warning', 'NoRunningRollout']],
      );
      assert.match(events[0]?.message ?? '', /^promote of podinfo by bob \(ship it\): no rollout/);
      const missing = await cutoverAs('bob', 'pause', `${ns.name}/nosuch`, '--reason', 'x');
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /there is no Canary \S+\/nosuch/);
    } catch (error) {
      t.diagnostic(worker.logs().slice(-4000));
      throw error;
    }
  });

  test('retry of a rolled-back revision starts a new rollout of it, once; a promoted one is not retried', async (t) => {
    try {
      hooks.respond('/smoke', { status: 500, body: 'smoke test failed' });
      await setMessage(ns.name, 'v2');
      await waitForPhase(ns.name, ['Failed']);
      const failed = await readCanaryStatus(ns.name, 'podinfo');
      // Alice may not retry (an approver); bob may.
      const alice = await cutoverAs('alice', 'retry', `${ns.name}/podinfo`, '--reason', 'again');
      assert.equal(alice.code, 7);
      hooks.respond('/smoke', { status: 200, body: 'ok' });
      const run = await cutoverAs(
        'bob',
        'retry',
        `${ns.name}/podinfo`,
        '--reason',
        'the smoke test was flaky',
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stdout,
        /retry of \S+\/podinfo applied, as bob .*:\n {2}retry by bob: a new rollout of revision \S+ of \S+\/podinfo starts/,
      );
      const workflowId = /rollout: (\S+)/.exec(run.stdout)?.[1] ?? '';
      assert.match(
        workflowId,
        new RegExp(
          `/rollout/${String(failed.lastAppliedSpec)}/[a-z0-9]{8}/${String(failed.lastAppliedSpec)}\\.`,
        ),
      );
      await waitForPhase(ns.name, ['Succeeded']);
      const primary = await kube().apps.readNamespacedDeployment({
        name: 'podinfo-primary',
        namespace: ns.name,
      });
      assert.ok(primary.spec?.template.spec?.containers[0]?.command?.includes('--ui-message=v2'));
      const canary = (await kube().config.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({
        group: 'flagger.app',
        version: 'v1beta1',
        namespace: ns.name,
        plural: 'canaries',
        name: 'podinfo',
      })) as {
        metadata: { annotations?: Record<string, string> };
      };
      assert.ok(workflowId.endsWith(canary.metadata.annotations?.['cutover.dev/rollout-attempt'] ?? '?'));
      const messages = (await canaryEvents(ns.name, 'podinfo')).map((e) => e.message);
      assert.ok(
        messages.some((m) => m.startsWith('Promotion completed!')),
        messages.join('\n'),
      );
      // Promoted now: nothing to retry.
      const again = await cutoverAs('bob', 'retry', `${ns.name}/podinfo`, '--reason', 'once more');
      assert.equal(again.code, 7, again.stderr);
      assert.match(again.stderr, /ended Succeeded, not rolled back or failed: nothing to retry/);
      lastRevision = String(failed.lastAppliedSpec);
    } catch (error) {
      t.diagnostic(worker.logs().slice(-4000));
      throw error;
    }
  });
  test('an admitted promote is an Update of the running rollout, as bob verified, applied once', async (t) => {
    try {
      hooks.respond('/smoke', { status: 200, body: 'ok' });
      // An analysis that would take minutes: only a promote ends it early.
      await kube()
        .config.makeApiClient(k8s.CustomObjectsApi)
        .patchNamespacedCustomObject(
          {
            group: 'flagger.app',
            version: 'v1beta1',
            namespace: ns.name,
            plural: 'canaries',
            name: 'podinfo',
            body: { spec: { analysis: { iterations: 1000 } } },
          },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      await setMessage(ns.name, 'v3');
      const run = await until('a running rollout of v3', async () => {
        const found = await runningRollout(temporal, endpoints.temporalAddress, {
          namespace: ns.name,
          name: 'podinfo',
        });
        return found?.revision !== undefined && found.revision !== lastRevision ? found : undefined;
      });
      const promote = await cutoverAs(
        'bob',
        'promote',
        `${ns.name}/podinfo`,
        '--reason',
        'hotfix verified by QA',
        '-o',
        'json',
      );
      assert.equal(promote.code, 0, promote.stderr);
      const name = createdName(promote);
      const status = await rolloutActionStatus(ns.name, name);
      assert.equal(status.phase, 'Applied');
      assert.equal(status.workflowId, run.workflowId);
      assert.ok(String(status.message).length > 0);
      const result = await temporal.workflow.getHandle<typeof rolloutWorkflow>(run.workflowId).result();
      assert.equal(result.outcome, 'promoted');
      const uid = await rolloutActionUid(ns.name, name);
      assert.deepEqual(
        result.manualActions.map((a) => [a.action, a.by, a.reason, a.actor?.verified, a.actor?.via]),
        [['promote', 'bob', 'hotfix verified by QA', true, `${ns.name}/${name}`]],
      );
      // The RolloutAction's uid is the Update's id: one accepted Update in the history.
      const history = await temporal.workflow.getHandle(run.workflowId).fetchHistory();
      const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      assert.deepEqual(
        accepted.map(
          (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId,
        ),
        [uid],
      );
      assert.deepEqual(
        (await rolloutActionEvents(ns.name, name)).map((e) => [e.type, e.reason]),
        [['Normal', 'Applied']],
      );
      lastRevision = run.revision ?? '';
    } catch (error) {
      t.diagnostic(worker.logs().slice(-4000));
      throw error;
    }
  });

  test('admitted pause and resume hold and continue the analysis; an admitted abort rolls back, with bob and the reason', async (t) => {
    try {
      await setMessage(ns.name, 'v4');
      const run = await until('a running rollout of v4', async () => {
        const found = await runningRollout(temporal, endpoints.temporalAddress, {
          namespace: ns.name,
          name: 'podinfo',
        });
        return found?.revision !== undefined && found.revision !== lastRevision ? found : undefined;
      });
      // The rollout's validator refuses what does not apply now; its reason is the refusal.
      const resume = await cutoverAs('bob', 'resume', `${ns.name}/podinfo`, '--reason', 'carry on');
      assert.equal(resume.code, 7, resume.stderr);
      assert.match(
        resume.stderr,
        new RegExp(`refused \\(RolloutAction \\S+\\): ${run.workflowId} refused resume: .+`),
      );
      // Pause holds the analysis (the query says so) until resume.
      const pause = await cutoverAs(
        'bob',
        'pause',
        `${ns.name}/podinfo`,
        '--reason',
        'looking at a dashboard',
      );
      assert.equal(pause.code, 0, pause.stderr);
      assert.match(pause.stdout, /paused by bob: looking at a dashboard/);
      const handle = temporal.workflow.getHandle<typeof rolloutWorkflow>(run.workflowId);
      assert.equal((await handle.query(statusQuery)).hold?.kind, 'paused');
      const resumed = await cutoverAs('bob', 'resume', `${ns.name}/podinfo`, '--reason', 'dashboard is fine');
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /resumed by bob: dashboard is fine/);
      assert.equal((await handle.query(statusQuery)).hold, undefined);
      const abort = await cutoverAs('bob', 'abort', `${ns.name}/podinfo`, '--reason', 'error budget burning');
      assert.equal(abort.code, 0, abort.stderr);
      assert.match(abort.stdout, /^abort of \S+\/podinfo applied, as bob/);
      const result = await handle.result();
      assert.equal(result.outcome, 'rolled-back');
      assert.deepEqual(
        result.manualActions.map((a) => [a.action, a.by, a.actor?.verified]),
        [
          ['pause', 'bob', true],
          ['resume', 'bob', true],
          ['abort', 'bob', true],
        ],
      );
      await waitForPhase(ns.name, ['Failed']);
      const primary = await kube().apps.readNamespacedDeployment({
        name: 'podinfo-primary',
        namespace: ns.name,
      });
      assert.ok(primary.spec?.template.spec?.containers[0]?.command?.includes('--ui-message=v3'));
      lastRevision = run.revision ?? '';
    } catch (error) {
      t.diagnostic(worker.logs().slice(-4000));
      throw error;
    }
  });
  test('two of three approvers: a second approval by the same person is refused, another approver promotes', async (t) => {
    const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
    const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    try {
      await custom.createNamespacedCustomObject({
        group: 'cutover.dev',
        version: 'v1alpha1',
        namespace: ns.name,
        plural: 'rolloutpolicies',
        body: {
          apiVersion: 'cutover.dev/v1alpha1',
          kind: 'RolloutPolicy',
          metadata: { name: 'two-approvers', namespace: ns.name },
          spec: {
            selector: { matchLabels: { app: 'podinfo' } },
            approvals: { required: 2, from: { users: ['carol'], groups: ['release-managers'] } },
          },
        },
      });
      await custom.patchNamespacedCustomObject(
        {
          group: 'flagger.app',
          version: 'v1beta1',
          namespace: ns.name,
          plural: 'canaries',
          name: 'podinfo',
          body: { metadata: { labels: { app: 'podinfo' } }, spec: { analysis: { iterations: 2 } } },
        },
        merge,
      );
      await setMessage(ns.name, 'v5');
      const run = await until('a running rollout of v5', async () => {
        const found = await runningRollout(temporal, endpoints.temporalAddress, {
          namespace: ns.name,
          name: 'podinfo',
        });
        return found?.revision !== undefined && found.revision !== lastRevision ? found : undefined;
      });
      await waitForPhase(ns.name, ['WaitingPromotion']);
      const first = await cutoverAs(
        'alice',
        'approve',
        `${ns.name}/podinfo`,
        '--reason',
        'staging soak passed',
      );
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^approve of \S+ applied, as alice/);
      const twice = await cutoverAs('alice', 'approve', `${ns.name}/podinfo`, '--reason', 'really');
      assert.equal(twice.code, 7, twice.stderr);
      assert.match(twice.stderr, /refused approve: alice has already approved \(1 of 2\)/);
      const operator = await cutoverAs('bob', 'approve', `${ns.name}/podinfo`, '--reason', 'me too');
      assert.equal(operator.code, 7);
      assert.match(operator.stderr, /rule RBAC: bob may not approve/);
      assert.equal(
        (await readCanaryStatus(ns.name, 'podinfo')).phase,
        'WaitingPromotion',
        'one approval is not enough',
      );
      const second = await cutoverAs(
        'carol',
        'approve',
        `${ns.name}/podinfo`,
        '--reason',
        'change ticket 4711',
      );
      assert.equal(second.code, 0, second.stderr);
      const result = await temporal.workflow.getHandle<typeof rolloutWorkflow>(run.workflowId).result();
      assert.equal(result.outcome, 'promoted');
      assert.deepEqual(
        result.manualActions.map((a) => [a.action, a.by, a.actor?.verified]),
        [
          ['approve', 'alice', true],
          ['approve', 'carol', true],
        ],
      );
      await waitForPhase(ns.name, ['Succeeded']);
      lastRevision = run.revision ?? '';
    } catch (error) {
      t.diagnostic(worker.logs().slice(-4000));
      throw error;
    }
  });
});
