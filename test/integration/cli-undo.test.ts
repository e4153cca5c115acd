// `cutover undo` and `cutover rollback` as a user runs them (a child process pointed at the stack by
// the environment), against a real Canary, Deployment and hand-made ControllerRevisions shaped like
// the ones the promotion keeps; the running rollout is a real workflow that no worker picks up, so
// Temporal's visibility and its history are the real ones.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { promotedRevisionName } from '../../canary/promoted-revision.ts';
import { runningRollout } from '../../client/canary-lookup.ts';
import { CanaryPhase } from '../../canary/status.ts';
import { rolloutSearchAttributes } from '../../workflows/search-attributes.ts';
import { endpoints, kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { canaryEvents, canaryObject, createCanary, ensureCrds } from '../support/canaries.ts';
import { runCutover, type CliRun } from '../support/cli-process.ts';
import { waitFor } from '../../stack/processes.ts';

/** `cutover ARGS` as a user runs it; resolves with the exit code and both streams. */
const cutover = (...args: string[]): Promise<CliRun> => runCutover(args);

let namespace: { name: string; remove: () => Promise<void> };
let connection: Connection;
let temporal: Client;

before(async () => {
  await ensureCrds();
  namespace = await testNamespace('undo');
  connection = await Connection.connect({ address: endpoints.temporalAddress });
  temporal = new Client({ connection, namespace: endpoints.temporalNamespace });
});
after(async () => {
  await namespace.remove();
  await connection.close();
});

function podTemplate(image: string): k8s.V1PodTemplateSpec {
  return {
    metadata: { labels: { app: 'podinfo' } },
    spec: { containers: [{ name: 'podinfod', image, ports: [{ name: 'http', containerPort: 9898 }] }] },
  };
}

/** A ControllerRevision as the promotion keeps one: owned by the Canary, labelled, counted. */
async function keepRevision(ns: string, canaryUid: string, revision: string, number: number, image: string) {
  await kube().apps.createNamespacedControllerRevision({
    namespace: ns,
    body: {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: promotedRevisionName('podinfo', revision),
        labels: { 'cutover.dev/canary': 'podinfo' },
        annotations: { 'cutover.dev/revision': revision },
        ownerReferences: [
          {
            apiVersion: 'flagger.app/v1beta1',
            kind: 'Canary',
            name: 'podinfo',
            uid: canaryUid,
            controller: true,
          },
        ],
      },
      revision: number,
      data: { template: podTemplate(image) },
    },
  });
}

async function canaryAnnotations(ns: string): Promise<Record<string, string>> {
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  const raw = (await custom.getNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace: ns,
    plural: 'canaries',
    name: 'podinfo',
  })) as { metadata: { annotations?: Record<string, string> } };
  return raw.metadata.annotations ?? {};
}

test('undo puts the kept template on the target exactly and asks for a fresh rollout; rollback signals the running one', async () => {
  const ns = namespace.name;
  const { apps, config } = kube();
  const canaryRef = `${ns}/podinfo`;

  const deployment = podinfoDeployment('podinfo', ns, 0);
  deployment.spec!.template = podTemplate('ghcr.io/stefanprodan/podinfo:6.9.2');
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment });
  const { uid } = await createCanary(canaryObject('podinfo', ns));
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  await custom.patchNamespacedCustomObjectStatus(
    {
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural: 'canaries',
      name: 'podinfo',
      body: { status: { phase: 'Succeeded', lastPromotedSpec: 'rev-b', lastAppliedSpec: 'rev-b' } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );

  // Nothing kept yet: undo says so, and changes nothing.
  const nothing = await cutover('undo', canaryRef, '--reason', 'too early');
  assert.equal(nothing.code, 6, nothing.stderr);
  assert.match(nothing.stderr, /keeps no promoted revision of .*\/podinfo/);

  await keepRevision(ns, uid, 'rev-a', 1, 'ghcr.io/stefanprodan/podinfo:6.9.0');
  await keepRevision(ns, uid, 'rev-b', 2, 'ghcr.io/stefanprodan/podinfo:6.9.2');
  // Since the promotion, someone else added an env var: the undo must not keep it.
  await apps.patchNamespacedDeployment(
    {
      namespace: ns,
      name: 'podinfo',
      fieldManager: 'someone-else',
      body: {
        spec: {
          template: { spec: { containers: [{ name: 'podinfod', env: [{ name: 'DEBUG', value: '1' }] }] } },
        },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );

  const undo = await cutover(
    'undo',
    canaryRef,
    '--reason',
    'p99 doubled',
    '--skip-analysis',
    '--as',
    'alice',
  );
  assert.equal(undo.code, 0, undo.stderr);
  assert.match(undo.stdout, /pod template set to revision 1 \(rev-a\) from podinfo-rev-a/);
  assert.match(
    undo.stdout,
    /a new rollout of rev-a \(replacing rev-b\) starts and promotes without analysis/,
  );
  assert.match(undo.stdout, new RegExp(`follow it: cutover watch ${canaryRef}`));

  const container = (await apps.readNamespacedDeployment({ namespace: ns, name: 'podinfo' })).spec?.template
    .spec?.containers[0];
  assert.equal(container?.image, 'ghcr.io/stefanprodan/podinfo:6.9.0');
  assert.equal(container?.env, undefined, 'the template is the kept one exactly');
  const annotations = await canaryAnnotations(ns);
  assert.match(annotations['cutover.dev/rollout-attempt'] ?? '', /^rev-a\.[0-9a-z]+$/);
  assert.equal(annotations['cutover.dev/skip-analysis-revision'], 'rev-a');
  const events = await canaryEvents(ns, 'podinfo');
  assert.deepEqual(
    events.filter((e) => e.reason === 'Undo').map((e) => e.message),
    ['Undo to revision 1 (rev-a) by alice: p99 doubled (a new rollout asked for, analysis skipped).'],
  );

  // Back to rev-b by its hash: the promoted one, so the target only matches the primary again.
  const json = await cutover(
    'undo',
    canaryRef,
    '--reason',
    'undo the undo',
    '--to-revision',
    'rev-b',
    '-o',
    'json',
  );
  assert.equal(json.code, 0, json.stderr);
  const result = JSON.parse(json.stdout) as { to: { number: number }; rolloutRequested: boolean };
  assert.equal(result.to.number, 2);
  assert.equal(
    result.rolloutRequested,
    false,
    'rev-b is the promoted one: the target just matches the primary again',
  );
  const notKept = await cutover('undo', canaryRef, '--reason', 'x', '--to-revision', '9');
  assert.equal(notKept.code, 6);
  assert.match(notKept.stderr, /revision 9 of .* is not kept; kept: 2 \(rev-b, promoted now\), 1 \(rev-a\)/);

  // No rollout runs: rollback refuses and points at undo.
  const idle = await cutover('rollback', canaryRef, '--reason', 'latency', '--direct');
  assert.equal(idle.code, 3);
  assert.match(idle.stderr, /no rollout of .* is running.*nothing to flip back.*cutover undo/);

  // A rollout runs (a real workflow on a task queue no worker polls): undo refuses, rollback signals it.
  const workflowId = `cutover/${ns}/podinfo/rollout/rev-c/${uid.slice(0, 8)}`;
  const handle = await temporal.workflow.start('rolloutWorkflow', {
    taskQueue: `nobody-${ns}`,
    workflowId,
    args: [],
    typedSearchAttributes: rolloutSearchAttributes(
      { name: 'podinfo', namespace: ns },
      'rev-c',
      CanaryPhase.Progressing,
    ),
  });
  try {
    await waitFor(
      'the rollout in visibility',
      async () =>
        (await runningRollout(temporal, endpoints.temporalAddress, { namespace: ns, name: 'podinfo' })) !==
        undefined,
      20_000,
    );
    const running = await cutover('undo', canaryRef, '--reason', 'x');
    assert.equal(running.code, 64);
    assert.match(
      running.stderr,
      /a rollout of .*\/podinfo is running .*cutover rollback flips back during the keep-warm window/,
    );

    const rollback = await cutover(
      'rollback',
      canaryRef,
      '--reason',
      'errors after the switch',
      '--as',
      'bob',
    );
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match(rollback.stdout, new RegExp(`Rollback to blue of ${canaryRef} sent to ${workflowId}`));
    assert.match(rollback.stdout, /by bob: errors after the switch/);
    const history = await handle.fetchHistory();
    const signal = history.events?.find(
      (e) => e.workflowExecutionSignaledEventAttributes,
    )?.workflowExecutionSignaledEventAttributes;
    assert.equal(signal?.signalName, 'rollback');
    assert.equal(signal?.identity, 'bob');
  } finally {
    await handle.terminate('test over');
  }
});
