import type * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podReadinessBlockers, probeDeployment } from '../../../stack/pod-probe.ts';
import { podinfoImage } from '../../../stack/pod-process.ts';

test('the probe asks for one pod per node, of an image the pod runner does not run', () => {
  const d = probeDeployment(2);
  assert.equal(d.spec?.replicas, 2);
  const term =
    d.spec?.template.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  assert.equal(term?.[0]?.topologyKey, 'kubernetes.io/hostname');
  const image = d.spec?.template.spec?.containers[0]?.image ?? '';
  assert.doesNotMatch(image, podinfoImage.image);
  assert.doesNotMatch(image, /cutover/);
});

test('the blockers name unscheduled pods with the scheduler message, and tainted nodes', () => {
  const pods: k8s.V1Pod[] = [
    {
      metadata: { name: 'p-1' },
      spec: { containers: [] },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', message: '0/2 nodes are available' }],
      },
    },
    {
      metadata: { name: 'p-2' },
      spec: { containers: [], nodeName: 'kwok-node-1' },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    },
  ];
  const nodes: k8s.V1Node[] = [
    {
      metadata: { name: 'kwok-node-0' },
      spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] },
      status: { conditions: [{ type: 'Ready', status: 'False' }] },
    },
    { metadata: { name: 'kwok-node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
  ];
  assert.deepEqual(podReadinessBlockers(pods, nodes), [
    'pod p-1 Pending unscheduled (0/2 nodes are available)',
    'node kwok-node-0 Ready=False taints node.kubernetes.io/not-ready:NoSchedule',
  ]);
  assert.deepEqual(podReadinessBlockers([], []), []);
});
