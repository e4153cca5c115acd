import { test } from 'node:test';
import assert from 'node:assert/strict';
import { primaryAutoscaler } from '../../../resources/autoscaler.ts';
import { primaryConfigMap, primarySecret } from '../../../resources/config-copies.ts';
import { canary } from './fixtures.ts';

test('the primary HPA copies min, max, metrics and behavior and scales <target>-primary', () => {
  const metrics = [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
  ];
  const behavior = { scaleDown: { stabilizationWindowSeconds: 60 } };
  const hpa = primaryAutoscaler({
    canary,
    targetName: 'podinfo',
    hpa: {
      metadata: { name: 'podinfo-hpa', namespace: 'test', uid: 'x', resourceVersion: '9' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
        minReplicas: 2,
        maxReplicas: 5,
        metrics,
        behavior,
      },
      status: { currentReplicas: 2, desiredReplicas: 2 },
    },
  });
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.equal(hpa.metadata?.name, 'podinfo-hpa-primary');
  assert.equal(hpa.metadata?.uid, undefined);
  assert.equal(hpa.metadata?.ownerReferences?.[0]?.kind, 'Canary');
  assert.deepEqual(hpa.spec, {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo-primary' },
    minReplicas: 2,
    maxReplicas: 5,
    metrics,
    behavior,
  });
  assert.equal(hpa.status, undefined);
});

test('config copies are named <name>-primary, keep the data and drop the tracking annotation', () => {
  const cm = primaryConfigMap(canary, {
    metadata: {
      name: 'settings',
      labels: { app: 'podinfo' },
      annotations: { 'flagger.app/config-tracking': 'enabled', 'example.com/a': 'b' },
      resourceVersion: '5',
    },
    data: { color: 'blue' },
  });
  assert.equal(cm.metadata?.name, 'settings-primary');
  assert.deepEqual(cm.data, { color: 'blue' });
  assert.deepEqual(cm.metadata?.annotations, { 'example.com/a': 'b' });
  assert.equal(cm.metadata?.labels?.['app.kubernetes.io/managed-by'], 'cutover');
  assert.equal(cm.metadata?.resourceVersion, undefined);

  const secret = primarySecret(canary, {
    metadata: { name: 'token' },
    type: 'Opaque',
    data: { t: 'c2VjcmV0' },
  });
  assert.equal(secret.metadata?.name, 'token-primary');
  assert.equal(secret.type, 'Opaque');
  assert.deepEqual(secret.data, { t: 'c2VjcmV0' });
  assert.equal(secret.metadata?.ownerReferences?.[0]?.controller, true);
});
