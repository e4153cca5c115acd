// The RolloutAction controller's decisions over faked ports: the admission check first, the Update
// with the RolloutAction's uid, the validator's refusal as the status message, and retry's rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { rolloutAttemptAnnotation } from '../../../canary/annotations.ts';
import { validateRolloutAction, type RolloutAction } from '../../../canary/rollout-action.ts';
import * as k8s from '@kubernetes/client-node';
import {
  actOnRolloutAction,
  probeAdmission,
  RolloutActionController,
} from '../../../worker/rollout-actions.ts';
import type { InformerFactory } from '../../../worker/watcher.ts';
import type { AdmissionCheck, ClusterPort, SteeringPort } from '../../../worker/rollout-actions.ts';
import { retryToken, retryVerdict } from '../../../worker/rollout-retry.ts';
import type { PastRollout } from '../../../worker/rollout-retry.ts';
import type { ActionRequest } from '../../../workflows/steering-messages.ts';

function action(spec: Record<string, unknown> = {}): RolloutAction {
  const validation = validateRolloutAction({
    metadata: {
      name: 'podinfo-promote-abcde',
      namespace: 'apps',
      uid: 'a1b2c3d4-0000-1111-2222-333344445555',
    },
    spec: {
      canary: 'podinfo',
      action: 'promote',
      reason: 'looks good',
      user: 'alice',
      groups: ['release-managers'],
      ...spec,
    },
  });
  assert.ok(validation.ok);
  return validation.action;
}

interface Fakes {
  cluster: ClusterPort;
  steering: SteeringPort;
  updates: { workflowId: string; action: string; request: ActionRequest; updateId: string }[];
  annotations: Record<string, string>[];
}

function fakes(options: {
  admission?: AdmissionCheck;
  canary?: boolean;
  rollouts?: (PastRollout & { runId: string })[];
  update?: () => Promise<unknown>;
  annotations?: Record<string, string>;
}): Fakes {
  const updates: Fakes['updates'] = [];
  const annotations: Record<string, string>[] = [];
  return {
    updates,
    annotations,
    cluster: {
      admission: async () => options.admission ?? { enforced: true },
      readCanary: async () =>
        options.canary === false
          ? undefined
          : { uid: 'canary-uid-1234', target: 'podinfo', annotations: options.annotations ?? {} },
      currentRevision: async () => 'rev-b',
      annotateCanary: async (_ns, _name, a) => void annotations.push(a),
      writeStatus: async () => undefined,
      recordEvent: async () => undefined,
    },
    steering: {
      running: async () => (options.rollouts ?? []).filter((r) => r.status === 'RUNNING'),
      rolloutsOf: async (_ns, _name, revision) =>
        (options.rollouts ?? []).filter((r) => r.revision === revision && r.status !== 'RUNNING'),
      update: async (workflowId, name, request, updateId) => {
        updates.push({ workflowId, action: name, request, updateId });
        if (options.update) await options.update();
        return { message: 'promotion requested by alice', phase: 'Progressing' };
      },
    },
  };
}

const running = {
  workflowId: 'cutover/apps/podinfo/rollout/rev-b/canary-u',
  runId: 'run-1',
  status: 'RUNNING',
  startTime: new Date(2),
  revision: 'rev-b',
  phase: 'Progressing',
};

test('an admitted promote is an Update of the running rollout, as the verified user, with the uid as update id', async () => {
  const f = fakes({ rollouts: [running] });
  const outcome = await actOnRolloutAction(action(), new Date(), f);
  assert.equal(outcome.phase, 'Applied');
  assert.equal(outcome.message, 'promotion requested by alice');
  assert.equal(outcome.workflowId, running.workflowId);
  assert.deepEqual(f.updates, [
    {
      workflowId: running.workflowId,
      action: 'promote',
      updateId: 'a1b2c3d4-0000-1111-2222-333344445555',
      request: {
        actor: {
          user: 'alice',
          groups: ['release-managers'],
          verified: true,
          via: 'apps/podinfo-promote-abcde',
        },
        reason: 'looks good',
      },
    },
  ]);
});

test('approve carries the override; other actions never do', async () => {
  const f = fakes({ rollouts: [running] });
  await actOnRolloutAction(action({ action: 'approve', override: true }), new Date(), f);
  assert.equal(f.updates[0]?.request.override, true);
  assert.equal(f.updates[0]?.action, 'approve');
});

test("a validator's refusal is the RolloutAction's refusal", async () => {
  const f = fakes({
    rollouts: [running],
    update: async () => {
      throw new WorkflowUpdateFailedError(
        'Workflow Update failed',
        ApplicationFailure.create({ message: 'bob has already approved (1 of 2)' }),
      );
    },
  });
  const outcome = await actOnRolloutAction(action({ action: 'approve' }), new Date(), f);
  assert.equal(outcome.phase, 'Refused');
  assert.equal(outcome.reason, 'RolloutRefused');
  assert.match(outcome.message, /refused approve: bob has already approved \(1 of 2\)$/);
});

test('nothing is acted on where the admission policy is not enforced', async () => {
  const f = fakes({
    admission: { enforced: false, message: 'not enforced in apps: install it' },
    rollouts: [running],
  });
  const outcome = await actOnRolloutAction(action(), new Date(), f);
  assert.deepEqual(outcome, {
    phase: 'Refused',
    reason: 'AdmissionNotEnforced',
    message: 'not enforced in apps: install it',
  });
  assert.equal(f.updates.length, 0);
});

test('refused: no running rollout, no Canary, and a request older than the maximum age', async () => {
  const none = await actOnRolloutAction(action(), new Date(), fakes({}));
  assert.equal(none.reason, 'NoRunningRollout');
  assert.match(none.message, /no rollout of apps\/podinfo is running: nothing to promote/);
  const missing = await actOnRolloutAction(action(), new Date(), fakes({ canary: false }));
  assert.equal(missing.reason, 'CanaryNotFound');
  const old = await actOnRolloutAction(
    action(),
    new Date(Date.now() - 3_600_000),
    fakes({ rollouts: [running] }),
  );
  assert.equal(old.phase, 'Refused');
  assert.match(old.message, /an old request is not acted on/);
});

test('a call that fails for want of an answer is thrown, to be tried again', async () => {
  const f = fakes({
    rollouts: [running],
    update: async () => Promise.reject(new Error('deadline exceeded')),
  });
  await assert.rejects(actOnRolloutAction(action(), new Date(), f), /deadline exceeded/);
});

test('retry of a rolled-back revision sets the attempt annotation once, to a token of the request', async () => {
  const rolledBack = { ...running, status: 'COMPLETED', phase: 'Failed' };
  const f = fakes({ rollouts: [rolledBack] });
  const retry = action({ action: 'retry' });
  const outcome = await actOnRolloutAction(retry, new Date(), f);
  assert.equal(outcome.phase, 'Applied');
  const token = retryToken('rev-b', retry.uid);
  assert.deepEqual(f.annotations, [{ [rolloutAttemptAnnotation]: token }]);
  assert.equal(outcome.workflowId, `cutover/apps/podinfo/rollout/rev-b/canary-u/${token}`);
  // Redelivered after the annotation was written (and the new rollout runs): Applied, nothing written.
  const again = fakes({
    rollouts: [{ ...running, workflowId: outcome.workflowId ?? '' }],
    annotations: { [rolloutAttemptAnnotation]: token },
  });
  assert.equal((await actOnRolloutAction(retry, new Date(), again)).phase, 'Applied');
  assert.equal(again.annotations.length, 0);
});

test('retry is refused while a rollout runs, for a promoted revision, and for one never rolled out', () => {
  const base = {
    canary: { namespace: 'apps', name: 'podinfo', annotations: {} },
    revision: 'rev-b',
    actionUid: 'u',
  };
  const runningVerdict = retryVerdict({ ...base, rollouts: [running] });
  assert.equal(runningVerdict.kind, 'refused');
  assert.match(
    runningVerdict.kind === 'refused' ? runningVerdict.message : '',
    /is running .*abort it first/,
  );
  const promoted = retryVerdict({
    ...base,
    rollouts: [{ ...running, status: 'COMPLETED', phase: 'Succeeded' }],
  });
  assert.match(
    promoted.kind === 'refused' ? promoted.message : '',
    /ended Succeeded, not rolled back or failed/,
  );
  const other = retryVerdict({
    ...base,
    rollouts: [{ ...running, status: 'COMPLETED', phase: 'Failed', revision: 'rev-a' }],
  });
  assert.match(other.kind === 'refused' ? other.message : '', /has not been rolled out yet/);
  const terminated = retryVerdict({
    ...base,
    rollouts: [{ ...running, status: 'TERMINATED', phase: 'Progressing' }],
  });
  assert.equal(terminated.kind, 'retry');
});

// ---- the controller: which objects it acts on, retries, giving up ----

type Handler = (object: k8s.KubernetesObject) => void;

class FakeInformer {
  private readonly handlers = new Map<string, Handler[]>();
  private readonly initial: k8s.KubernetesObject[];
  constructor(initial: k8s.KubernetesObject[]) {
    this.initial = initial;
  }
  on(event: string, handler: Handler): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
  }
  emit(event: 'add' | 'update' | 'delete', object: k8s.KubernetesObject): void {
    for (const handler of this.handlers.get(event) ?? []) handler(object);
  }
  async start(): Promise<void> {
    for (const object of this.initial) this.emit('add', object);
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

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function stored(name: string, status: Record<string, unknown> = {}): k8s.KubernetesObject {
  return {
    apiVersion: 'cutover.dev/v1alpha1',
    kind: 'RolloutAction',
    metadata: { name, namespace: 'apps', uid: `uid-${name}`, creationTimestamp: new Date() },
    ...{ spec: { canary: 'podinfo', action: 'promote', reason: 'r', user: 'bob', groups: [] }, status },
  } as k8s.KubernetesObject;
}

test('the controller acts on new ones only, once each; a failing call is tried again, then given up with the cause', async () => {
  let failures = 2;
  const f = fakes({
    rollouts: [running],
    update: async () => {
      if (failures-- > 0) throw new Error('14 UNAVAILABLE: no connection');
    },
  });
  const written: [string, string, string][] = [];
  f.cluster.writeStatus = async (a, outcome) => void written.push([a.name, outcome.phase, outcome.reason]);
  const settled = (): [string, string, string][] => written.filter(([, phase]) => phase !== 'Pending');
  const informer = new FakeInformer([stored('new'), stored('done', { phase: 'Applied' }), stored('broken')]);
  // `broken` never gets an answer from Temporal.
  const controller = new RolloutActionController({
    kubeconfig,
    ports: f,
    log: quiet,
    retryDelayMs: 5,
    maxAttempts: 3,
    informerFactory: (() => informer) as unknown as InformerFactory,
  });
  let brokenTries = 0;
  const update = f.steering.update;
  f.steering.update = async (workflowId, action, request, updateId) => {
    if (updateId === 'uid-broken') {
      brokenTries++;
      throw new Error('deadline exceeded');
    }
    return update(workflowId, action, request, updateId);
  };
  await controller.start();
  await waitUntil(() => settled().length === 2);
  // A resync or status update of a settled one changes nothing.
  informer.emit('update', stored('new'));
  await controller.idle();
  await controller.stop();
  assert.deepEqual(settled().sort(), [
    ['broken', 'Refused', 'RolloutUnreachable'],
    ['new', 'Applied', 'Applied'],
  ]);
  // While it waits to try again, the object says so.
  assert.equal(written.filter(([name, phase]) => name === 'broken' && phase === 'Pending').length, 2);
  assert.equal(brokenTries, 3);
  assert.deepEqual(
    f.updates.filter((u) => u.updateId === 'uid-new').map((u) => u.updateId),
    ['uid-new', 'uid-new', 'uid-new'],
    'the same update id on every try',
  );
});

async function waitUntil(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('the admission probe: refused by the policy is enforced; admitted, or refused by RBAC or another hook, is not', async () => {
  const probe = (answer: () => Promise<unknown>) =>
    probeAdmission({ createNamespacedCustomObject: answer } as unknown as k8s.CustomObjectsApi, 'apps', 1000);
  const refusedBy = (code: number, message: string) => async () => {
    throw new k8s.ApiException(code, 'refused', { message }, {});
  };
  assert.deepEqual(
    await probe(
      refusedBy(
        403,
        "rolloutactions.cutover.dev is forbidden: ValidatingAdmissionPolicy 'cutover-rollout-actions' with binding 'cutover-rollout-actions' denied request: rule spec.user: …",
      ),
    ),
    { enforced: true },
  );
  const admitted = await probe(async () => ({}));
  assert.ok(!admitted.enforced);
  assert.match(
    admitted.message,
    /is not enforced in namespace apps, so spec\.user could be anyone's .*kubectl apply -f deploy\/base\/rollout-action-admission\.yaml/,
  );
  const rbac = await probe(
    refusedBy(
      403,
      'User "system:serviceaccount:cutover-system:cutover-worker" cannot create resource "rolloutactions"',
    ),
  );
  assert.ok(!rbac.enforced);
  assert.match(rbac.message, /grant it create on rolloutactions\.cutover\.dev/);
  const other = await probe(refusedBy(400, 'some webhook said no'));
  assert.ok(!other.enforced);
  assert.match(other.message, /is not what refused a forged RolloutAction in apps \(some webhook said no\)/);
  await assert.rejects(probe(refusedBy(503, 'etcd is down')));
});
