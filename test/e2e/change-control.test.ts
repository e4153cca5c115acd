// Change control used the way a platform team uses it, on the real stack: the `cutover worker`
// process, the RolloutAction admission policy and Roles from deploy/, people of the local cluster with
// client certificates running the CLI, a RolloutPolicy beside an unchanged Flagger Canary, the real
// Prometheus answering "no values" for the inconclusive checks, and a RolloutFreeze applied mid-rollout.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stackEndpoints } from '../../stack/endpoints.ts';
import { podReadinessBlockers } from '../../stack/pod-probe.ts';
import { waitFor } from '../../stack/processes.ts';
import {
  rolloutPolicyApiVersion,
  rolloutPolicyGroup,
  rolloutPolicyKind,
  rolloutPolicyPlural,
  rolloutPolicyVersion,
} from '../../canary/rollout-policy.ts';
import { runCutover, type CliRun } from '../support/cli-process.ts';
import { bindRole, clusterUsers, waitForGrant, type ClusterUsers } from '../support/cluster-users.ts';
import { canaryEvents, canaryObject, readCanaryStatus, type CanaryOptions } from '../support/canaries.ts';
import { kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { ensureRolloutActionAdmission } from '../support/rollout-action-admission.ts';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';

const custom = (): k8s.CustomObjectsApi => kube().config.makeApiClient(k8s.CustomObjectsApi);

let people: ClusterUsers;

/** alice, bob and carol approve; dana operates (promote, abort, pause, resume); erin may nothing. */
before(async () => {
  people = await clusterUsers([
    { name: 'alice' },
    { name: 'bob' },
    { name: 'carol' },
    { name: 'dana', groups: ['oncall'] },
    { name: 'erin' },
  ]);
});
after(() => people?.remove());

interface Stage {
  ns: string;
  worker: WorkerProcess;
  cutover(who: string, ...args: string[]): Promise<CliRun>;
  release(message: string): Promise<void>;
  messages(): Promise<string[]>;
  phase(): Promise<string>;
}

/** A namespace with the admission policy, the Roles bound, a worker, podinfo and its Canary. */
async function stage(
  prefix: string,
  policy: Record<string, unknown>,
  canary: CanaryOptions,
  run: (s: Stage) => Promise<void>,
) {
  const ns = await testNamespace(prefix);
  await ensureRolloutActionAdmission(ns.name);
  await bindRole(ns.name, 'approvers', 'cutover-approver', { users: ['alice', 'bob', 'carol'] });
  await bindRole(ns.name, 'operators', 'cutover-operator', { groups: ['oncall'] });
  await waitForGrant(ns.name, 'dana', people.users.dana?.groups ?? [], 'pause');
  await waitForGrant(ns.name, 'carol', [], 'approve');
  const worker = await startWorkerProcess({ namespace: ns.name, taskQueue: `e2e-cc-${ns.name}` });
  try {
    await custom().createNamespacedCustomObject({
      group: rolloutPolicyGroup,
      version: rolloutPolicyVersion,
      namespace: ns.name,
      plural: rolloutPolicyPlural,
      body: {
        apiVersion: rolloutPolicyApiVersion,
        kind: rolloutPolicyKind,
        metadata: { name: 'change-control', namespace: ns.name },
        spec: { selector: {}, ...policy },
      },
    });
    await kube().apps.createNamespacedDeployment({
      namespace: ns.name,
      body: podinfoDeployment('podinfo', ns.name, 1),
    });
    await custom().createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns.name,
      plural: 'canaries',
      body: canaryObject('podinfo', ns.name, canary),
    });
    const s: Stage = {
      ns: ns.name,
      worker,
      cutover: (who, ...args) => {
        const user = people.users[who];
        assert.ok(user, who);
        return runCutover(args, { KUBECONFIG: user.kubeconfig });
      },
      release: async (message) => {
        const container = podinfoDeployment('podinfo', ns.name, 1, [`--ui-message=${message}`]).spec?.template
          .spec?.containers[0];
        await kube().apps.patchNamespacedDeployment(
          {
            name: 'podinfo',
            namespace: ns.name,
            body: { spec: { template: { spec: { containers: [container] } } } },
          },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
        );
      },
      messages: async () => (await canaryEvents(ns.name, 'podinfo')).map((e) => e.message),
      phase: async () => String((await readCanaryStatus(ns.name, 'podinfo')).phase ?? ''),
    };
    await waitFor('the Canary to be Initialized', async () => (await s.phase()) === 'Initialized', 120_000);
    await run(s);
  } catch (error) {
    process.stderr.write(worker.logs().slice(-4000));
    throw await withDiagnosis(error, ns.name, worker);
  } finally {
    await worker.stop();
    await ns.remove();
  }
}

/**
 * The failure with what the Canary, its Deployments and the worker said, in its message: a CI log
 * shows a failing test's error in full but may cut what the test wrote to stderr.
 */
async function withDiagnosis(error: unknown, ns: string, worker: WorkerProcess): Promise<unknown> {
  if (!(error instanceof Error)) return error;
  const tryRead = async (what: () => Promise<string>): Promise<string> =>
    what().catch((e: unknown) => `(unreadable: ${e instanceof Error ? e.message : String(e)})`);
  const status = await tryRead(async () => JSON.stringify(await readCanaryStatus(ns, 'podinfo')));
  const events = await tryRead(async () =>
    (await canaryEvents(ns, 'podinfo'))
      .slice(-6)
      .map((e) => `${e.type} ${e.reason}: ${e.message}`)
      .join('\n    '),
  );
  const deployments = await tryRead(async () =>
    (await kube().apps.listNamespacedDeployment({ namespace: ns })).items
      .map((d) => `${d.metadata?.name} ${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0} ready`)
      .join(', '),
  );
  // What keeps pods from being Ready (unscheduled, tainted nodes), and what the controllers said.
  const pods = await tryRead(
    async () =>
      podReadinessBlockers(
        (await kube().core.listNamespacedPod({ namespace: ns })).items,
        (await kube().core.listNode()).items,
      ).join('; ') || 'none: every pod and node is Ready, no node is tainted',
  );
  const warnings = await tryRead(async () =>
    (await kube().core.listNamespacedEvent({ namespace: ns })).items
      .filter((e) => e.type === 'Warning' && e.involvedObject.kind !== 'Canary')
      .slice(-6)
      .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message}`)
      .join('\n    '),
  );
  // Whether the supervisor restarted a component of the stack meanwhile (it logs every restart).
  const supervisor = await tryRead(async () =>
    lastLines(await readFile(join(stackEndpoints().stateDir, 'logs', 'supervisor.log'), 'utf8'), 5),
  );
  const logs = lastLines(worker.logs(), 12);
  error.message +=
    `\n  Canary status: ${status.slice(0, 1500)}\n  last events:\n    ${events}` +
    `\n  Deployments: ${deployments}\n  pods and nodes not ready: ${pods}` +
    `\n  other Warning events:\n    ${warnings}\n  stack supervisor log (last lines):\n    ${supervisor}` +
    `\n  worker log (last lines):\n    ${logs}`;
  return error;
}

/** The last `count` non-empty lines of a log, each cut at 300 characters, indented for an error message. */
function lastLines(log: string, count: number): string {
  return log
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-count)
    .map((line) => line.slice(0, 300))
    .join('\n    ');
}

async function untilMessage(s: Stage, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  let found: string | undefined;
  await waitFor(
    `an event matching ${pattern}`,
    async () => (found = (await s.messages()).find((m) => pattern.test(m))) !== undefined,
    timeoutMs,
  );
  return found ?? '';
}

async function untilPhase(s: Stage, phase: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`the Canary to be ${phase}`, async () => (await s.phase()) === phase, timeoutMs);
}

describe('change control on the real stack', () => {
  test('two of three approvers, verified by the API server; refusals name the rule and the role', async () => {
    const policy = { approvals: { required: 2, from: { users: ['alice', 'bob', 'carol'] } } };
    await stage('e2e-approve', policy, { interval: '300ms', iterations: 2 }, async (s) => {
      await s.release('v2');
      await untilMessage(s, /waiting for 2 approvals, 0 so far; may approve: users alice, bob, carol/);
      assert.equal(await s.phase(), 'WaitingPromotion');

      const early = await s.cutover('dana', 'promote', `${s.ns}/podinfo`, '--reason', 'ship it');
      assert.notEqual(early.code, 0);
      assert.match(
        early.stderr,
        /promotion needs 2 approvals and has 0; may approve: users alice, bob, carol/,
      );
      const outsider = await s.cutover('erin', 'approve', `${s.ns}/podinfo`, '--reason', 'lgtm');
      assert.notEqual(outsider.code, 0);
      assert.match(outsider.stderr, /erin.*approve.*cutover-approver/);

      const first = await s.cutover('alice', 'approve', `${s.ns}/podinfo`, '--reason', 'tested on staging');
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /approved by alice \(1 of 2\): tested on staging/);
      const again = await s.cutover('alice', 'approve', `${s.ns}/podinfo`, '--reason', 'really');
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /alice has already approved \(1 of 2\)/);
      await untilMessage(s, /waiting for 2 approvals, 1 so far: alice/);

      const second = await s.cutover('carol', 'approve', `${s.ns}/podinfo`, '--reason', 'CAB-42 approved');
      assert.equal(second.code, 0, second.stderr);
      await untilPhase(s, 'Succeeded');
      const messages = await s.messages();
      assert.ok(
        messages.includes(
          'Promotion of podinfo.' +
            s.ns +
            ' approved by alice (1 of 2): tested on staging; may still approve: users alice, bob, carol',
        ),
      );
      assert.ok(messages.includes(`Promotion of podinfo.${s.ns} approved by alice, carol (2 of 2)`));
    });
  });

  test('a deploy window that opens during the test, and a freeze applied mid-rollout', async () => {
    await stage('e2e-window', {}, { interval: '300ms', iterations: 12 }, async (s) => {
      // An allow window opening 12 s from now, open 10 minutes, once an hour (UTC), set only once the
      // Canary is initialized: however long that took, the release comes before the window opens.
      // A rollout reads its policy when it starts, so the release sees this one.
      const opens = new Date(Date.now() + 12_000);
      const schedule = `FREQ=HOURLY;BYMINUTE=${opens.getUTCMinutes()};BYSECOND=${opens.getUTCSeconds()}`;
      await custom().patchNamespacedCustomObject(
        {
          group: rolloutPolicyGroup,
          version: rolloutPolicyVersion,
          namespace: s.ns,
          plural: rolloutPolicyPlural,
          name: 'change-control',
          body: {
            spec: { windows: { timeZone: 'UTC', allow: [{ name: 'soon', schedule, duration: '10m' }] } },
          },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await s.release('v2');
      await untilMessage(s, /advancement: outside deploy window soon/);
      assert.equal(await s.phase(), 'Waiting');
      assert.equal(
        (await kube().apps.readNamespacedDeployment({ name: 'podinfo', namespace: s.ns })).spec?.replicas,
        0,
        'nothing scaled before the window opens',
      );
      await untilMessage(s, /Deploy window open for podinfo/, 30_000);
      assert.ok(Date.now() >= opens.getTime() - 1_000);
      await untilMessage(s, /Advance podinfo\.\S+ canary iteration 1\//);

      // A freeze of this namespace, mid-analysis: promotion holds at the next gate.
      const freeze = `e2e-${s.ns}`;
      await custom().createClusterCustomObject({
        group: 'cutover.dev',
        version: 'v1alpha1',
        plural: 'rolloutfreezes',
        body: {
          apiVersion: 'cutover.dev/v1alpha1',
          kind: 'RolloutFreeze',
          metadata: { name: freeze },
          spec: {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': s.ns } },
            reason: 'peak season',
          },
        },
      });
      try {
        const held = await untilMessage(s, new RegExp(`advancement: .*${freeze}`));
        assert.match(held, /peak season/);
        assert.equal(await s.phase(), 'WaitingPromotion');
        const status = await s.cutover('dana', 'promote', `${s.ns}/podinfo`, '--reason', 'now');
        assert.notEqual(status.code, 0);
        assert.match(status.stderr, new RegExp(`${freeze}.*approve --override`));
      } finally {
        await custom().deleteClusterCustomObject({
          group: 'cutover.dev',
          version: 'v1alpha1',
          plural: 'rolloutfreezes',
          name: freeze,
        });
      }
      // Deleting it signals the rollout, which looks again at once.
      await untilPhase(s, 'Succeeded', 30_000);
    });
  });

  test('inconclusive checks (no values in Prometheus) pause for a decision: promote, then abort', async () => {
    const metrics = [
      {
        name: 'error-rate',
        thresholdRange: { max: 1 },
        interval: '1m',
        query: 'sum(cutover_e2e_metric_that_never_exists{namespace="x"})',
      },
    ];
    const policy = { analysis: { inconclusive: { action: 'pause', pauseAfter: 2 } } };
    await stage(
      'e2e-inconclusive',
      policy,
      { interval: '300ms', iterations: 3, threshold: 1, metrics },
      async (s) => {
        await s.release('v2');
        await untilMessage(s, /1 of 2 in a row before a pause \(inconclusive: pause\)/);
        await untilMessage(s, /analysis paused after 2 inconclusive ticks in a row \(inconclusive: pause\)/);
        await untilPhase(s, 'Waiting');
        const promoted = await s.cutover(
          'dana',
          'promote',
          `${s.ns}/podinfo`,
          '--reason',
          'no traffic tonight; fine yesterday',
        );
        assert.equal(promoted.code, 0, promoted.stderr);
        await untilPhase(s, 'Succeeded');

        await s.release('v3');
        await waitFor(
          'the second pause',
          async () => (await s.messages()).filter((m) => m.includes('analysis paused after 2')).length === 2,
          60_000,
        );
        const aborted = await s.cutover(
          'dana',
          'abort',
          `${s.ns}/podinfo`,
          '--reason',
          'cannot tell, not risking it',
        );
        assert.equal(aborted.code, 0, aborted.stderr);
        await untilPhase(s, 'Failed');
        assert.match(await untilMessage(s, /aborted by dana/), /cannot tell, not risking it/);
      },
    );
  });

  test('pause holds the analysis with no ticks spent; resume continues', async () => {
    await stage('e2e-pause', {}, { interval: '300ms', iterations: 15 }, async (s) => {
      await s.release('v2');
      await untilMessage(s, /canary iteration 2\//);
      const paused = await s.cutover('dana', 'pause', `${s.ns}/podinfo`, '--reason', 'investigating a spike');
      assert.equal(paused.code, 0, paused.stderr);
      await untilPhase(s, 'Waiting');
      const conditions = (await readCanaryStatus(s.ns, 'podinfo')).conditions as {
        type: string;
        status: string;
        reason: string;
      }[];
      assert.deepEqual(
        conditions.filter((c) => c.type === 'Held').map((c) => [c.status, c.reason]),
        [['True', 'Paused']],
        'kubectl shows why it holds',
      );
      const iterations = (await readCanaryStatus(s.ns, 'podinfo')).iterations;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal((await readCanaryStatus(s.ns, 'podinfo')).iterations, iterations, 'no tick while paused');
      const refused = await s.cutover('dana', 'pause', `${s.ns}/podinfo`, '--reason', 'again');
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /already paused/);
      const resumed = await s.cutover('dana', 'resume', `${s.ns}/podinfo`, '--reason', 'spike explained');
      assert.equal(resumed.code, 0, resumed.stderr);
      await untilPhase(s, 'Succeeded');
      const messages = await s.messages();
      assert.ok(
        messages.some(
          (m) => m === `Analysis of podinfo.${s.ns} paused by dana (groups oncall): investigating a spike`,
        ),
      );
      assert.ok(
        messages.some(
          (m) => m === `Analysis of podinfo.${s.ns} resumed by dana (groups oncall): spike explained`,
        ),
      );
    });
  });
});
