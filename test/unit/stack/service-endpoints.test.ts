import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceEndpoints, sliceEndpoints } from '../../../stack/service-endpoints.ts';
import type { EndpointSliceInput, RunningPod, ServiceInput } from '../../../stack/service-endpoints.ts';

function pod(name: string, labels: Record<string, string>, local: number, ready = true): RunningPod {
  return {
    namespace: 'test',
    name,
    labels,
    ports: new Map([[9898, local]]),
    namedPorts: new Map([['http', 9898]]),
    ready,
  };
}

const pods = [
  pod('blue-1', { app: 'blue' }, 41001),
  pod('blue-2', { app: 'blue' }, 41002),
  pod('green-1', { app: 'green' }, 42001),
  pod('green-2', { app: 'green' }, 42002, false),
];

test("a Service's endpoints are the ready pods its selector picks, at the target port's local port", () => {
  const service: ServiceInput = {
    namespace: 'test',
    name: 'web',
    selector: { app: 'blue' },
    ports: [{ name: 'http', port: 80, targetPort: 'http' }],
  };
  const port = service.ports[0];
  assert.ok(port);
  assert.deepEqual(serviceEndpoints(service, port, pods), ['127.0.0.1:41001', '127.0.0.1:41002']);
  const switched = { ...service, selector: { app: 'green' } };
  assert.deepEqual(serviceEndpoints(switched, port, pods), ['127.0.0.1:42001']);
});

test('a Service without a selector is served from its EndpointSlices: ready endpoints of served pods', () => {
  const service: ServiceInput = { namespace: 'test', name: 'manual', ports: [{ name: 'http', port: 80 }] };
  const slices: EndpointSliceInput[] = [
    {
      namespace: 'test',
      serviceName: 'manual',
      ports: [{ name: 'http', port: 9898 }],
      endpoints: [
        { ready: true, pod: 'green-1' },
        { ready: false, pod: 'blue-1' },
        { ready: true, pod: 'green-2' }, // the slice says ready, the local process is not yet
        { ready: true }, // not a pod: nothing local to dial
      ],
    },
    {
      namespace: 'test',
      serviceName: 'other',
      ports: [{ name: 'http', port: 9898 }],
      endpoints: [{ ready: true, pod: 'blue-2' }],
    },
  ];
  const port = service.ports[0];
  assert.ok(port);
  assert.deepEqual(sliceEndpoints(service, port, slices, pods), ['127.0.0.1:42001']);
  assert.deepEqual(serviceEndpoints(service, port, pods), [], 'no selector picks nothing by itself');
});
