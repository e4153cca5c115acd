import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localCommand, podinfoImage } from '../../../stack/pod-process.ts';

function portsFrom(first: number): () => number {
  let next = first;
  return () => next++;
}

test('podinfo listens on 127.0.0.1 only, whatever --host the container asks for', () => {
  const command = localCommand(
    podinfoImage,
    { image: 'ghcr.io/stefanprodan/podinfo:6.9.2', command: ['./podinfo', '--host=0.0.0.0', '--port=9898'] },
    portsFrom(40000),
  );
  assert.deepEqual(command.args, ['--host=127.0.0.1', '--port=40000']);
  assert.deepEqual([...command.ports], [[9898, 40000]]);
});

test("podinfo's metrics port is served by its main port, and the all-interfaces metrics server is not started", () => {
  const command = localCommand(
    podinfoImage,
    {
      image: 'ghcr.io/stefanprodan/podinfo:6.9.2',
      command: ['./podinfo', '--port=9898', '--port-metrics=9797', '--level=info', '--ui-message=hi'],
    },
    portsFrom(40000),
  );
  assert.deepEqual(command.args, ['--level=info', '--ui-message=hi', '--host=127.0.0.1', '--port=40000']);
  assert.equal(command.metricsPort, 40000);
  assert.deepEqual(
    [...command.ports],
    [
      [9898, 40000],
      [9797, 40000],
    ],
  );
  assert.deepEqual(command.unserved, []);
});

test('a gRPC port is reported unserved (podinfo cannot bind it to loopback) and not passed on', () => {
  const command = localCommand(
    podinfoImage,
    { image: 'podinfo', args: ['--grpc-port', '9999', '--config-path=/podinfo/config'] },
    portsFrom(40000),
  );
  assert.deepEqual(command.args, ['--host=127.0.0.1', '--port=40000']);
  assert.deepEqual(command.unserved, [9999]);
  assert.equal(command.ports.has(9999), false);
});
