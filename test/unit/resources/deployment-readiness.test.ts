import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import { deploymentReadiness } from '../../../resources/deployment-readiness.ts';

function deployment(status: NonNullable<V1Deployment['status']>, replicas = 4, generation = 2): V1Deployment {
  return {
    metadata: { name: 'podinfo', namespace: 'test', generation },
    spec: { replicas, selector: {}, template: {} },
    status,
  };
}

const rolledOut = { observedGeneration: 2, replicas: 4, updatedReplicas: 4, availableReplicas: 4 };

test('ready when the spec is observed, all replicas updated, no old ones left and all available', () => {
  assert.deepEqual(deploymentReadiness(deployment(rolledOut)), {
    ready: true,
    message: 'deployment podinfo.test successfully rolled out',
    progressDeadlineExceeded: false,
  });
});

test('not ready while the spec update is not observed', () => {
  const r = deploymentReadiness(deployment({ ...rolledOut, observedGeneration: 1 }));
  assert.equal(r.ready, false);
  assert.match(r.message, /spec update to be observed/);
});

test('not ready while replicas are being updated or old ones terminate', () => {
  assert.match(
    deploymentReadiness(deployment({ ...rolledOut, updatedReplicas: 3 })).message,
    /3 out of 4 new replicas/,
  );
  assert.match(
    deploymentReadiness(deployment({ ...rolledOut, replicas: 5 })).message,
    /1 old replicas are pending termination/,
  );
});

test('the ready threshold is a percentage of the updated replicas, rounded up', () => {
  const three = deployment({ ...rolledOut, availableReplicas: 3 });
  assert.equal(deploymentReadiness(three, 100).ready, false);
  assert.equal(deploymentReadiness(three, 75).ready, true);
  assert.equal(deploymentReadiness(three, 76).ready, false, 'ceil(4 × 76%) = 4');
  assert.match(deploymentReadiness(three, 100).message, /3 of 4/);
});

test('ProgressDeadlineExceeded is reported as such', () => {
  const stuck = deployment({
    ...rolledOut,
    availableReplicas: 0,
    conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
  });
  assert.deepEqual(deploymentReadiness(stuck), {
    ready: false,
    message: 'Deployment podinfo.test exceeded its progress deadline',
    progressDeadlineExceeded: true,
  });
});

test('a Deployment scaled to zero is rolled out', () => {
  assert.equal(deploymentReadiness(deployment({ observedGeneration: 2 }, 0)).ready, true);
});
