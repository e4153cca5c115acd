import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { FreezeWatch, runningRolloutsQuery } from '../../../worker/freeze-watch.ts';
import type { InformerFactory } from '../../../worker/watcher.ts';

test('the visibility query asks for running rollouts, of the namespaces given, quoted', () => {
  assert.equal(runningRolloutsQuery(), "WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running'");
  assert.equal(
    runningRolloutsQuery(['apps', "o'brien"]),
    "WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running' AND CutoverNamespace IN ('apps', 'o\\'brien')",
  );
});

test('a watch the API server refuses (a Role-only install) is said once and never stops the worker', async () => {
  let starts = 0;
  const refusing: InformerFactory = <T extends k8s.KubernetesObject>() =>
    ({
      on() {},
      off() {},
      async start() {
        starts += 1;
        throw new k8s.ApiException(403, 'forbidden', { message: 'rolloutfreezes is forbidden' }, {});
      },
      async stop() {},
      list: () => [],
      get: () => undefined,
    }) as unknown as k8s.Informer<T>;
  const warnings: string[] = [];
  // Never dialled: the informer is a fake.
  const kubeconfig = new k8s.KubeConfig();
  kubeconfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const watch = new FreezeWatch({
    kubeconfig,
    client: {} as Pick<Client, 'workflow'>,
    log: { info() {}, warn: (message) => warnings.push(message) },
    informerFactory: refusing,
  });
  await watch.start();
  assert.equal(starts, 1);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0] ?? '',
    /may not watch RolloutFreezes .* grant list and watch on rolloutfreezes.cutover.dev with a ClusterRole/,
  );
  await watch.stop();
});
