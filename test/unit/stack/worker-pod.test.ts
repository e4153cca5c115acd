import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutoverImagePattern, workerPodCommand, type WorkerPodInput } from '../../../stack/worker-pod.ts';

function input(overrides: Partial<WorkerPodInput> = {}): WorkerPodInput {
  let next = 41000;
  return {
    args: ['worker', '--min-interval=100ms'],
    env: {
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      PROMETHEUS_URL: 'http://127.0.0.1:9090',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
    },
    mounts: [],
    kubeconfig: '/state/pods/u1/kubeconfig',
    namespace: 'cutover-system',
    serviceAddress: (service, namespace, port) =>
      service === 'temporal-frontend' && namespace === 'temporal' && port === 7233
        ? '127.0.0.1:35001'
        : service === 'prometheus' && namespace === 'monitoring' && port === 9090
          ? '127.0.0.1:35002'
          : undefined,
    freePort: () => next++,
    ...overrides,
  };
}

test("Cutover's images are the chart's default and any registry's cutover; others are not", () => {
  for (const image of [
    'cutover:0.1.0',
    'cutover',
    'registry.example.com/platform/cutover:0.1.0',
    'ghcr.io/x/cutover@sha256:ab',
  ])
    assert.ok(cutoverImagePattern.test(image), image);
  for (const image of ['ghcr.io/stefanprodan/podinfo:6.9.2', 'cutover-tools:1', 'example.com/notcutover:1'])
    assert.ok(!cutoverImagePattern.test(image), image);
});

test('the worker keeps its args and env, listens on loopback ports of its own and uses the pod kubeconfig', () => {
  const command = workerPodCommand(
    input({ args: ['worker', '--metrics-port=8080', '--sdk-metrics-port', '9464', '--min-interval=100ms'] }),
  );
  assert.ok(command.ok);
  assert.deepEqual(command.args, ['worker', '--min-interval=100ms']);
  assert.equal(command.env.CUTOVER_METRICS_PORT, '41000');
  assert.equal(command.env.CUTOVER_SDK_METRICS_PORT, '41001');
  assert.equal(command.env.CUTOVER_METRICS_ADDRESS, '127.0.0.1');
  assert.equal(command.env.KUBECONFIG, '/state/pods/u1/kubeconfig');
  assert.equal(command.env.KUBERNETES_SERVICE_HOST, undefined, 'not in a pod: no in-cluster config');
  assert.equal(command.env.TEMPORAL_ADDRESS, '127.0.0.1:7233');
  assert.equal(command.metricsPort, 41000);
  assert.deepEqual(
    [...command.ports],
    [
      [8080, 41000],
      [9464, 41001],
    ],
  );
});

test('a Service address of the local cluster goes through its loopback proxy; any other is refused with the fix', () => {
  const placed = workerPodCommand(
    input({ env: { TEMPORAL_ADDRESS: 'temporal-frontend.temporal.svc.cluster.local:7233' } }),
  );
  assert.ok(placed.ok);
  assert.equal(placed.env.TEMPORAL_ADDRESS, '127.0.0.1:35001');
  const prometheus = workerPodCommand(
    input({ env: { PROMETHEUS_URL: 'http://prometheus.monitoring.svc:9090/prom' } }),
  );
  assert.ok(prometheus.ok);
  assert.equal(prometheus.env.PROMETHEUS_URL, 'http://127.0.0.1:35002/prom', 'only the origin changes');
  const local = workerPodCommand(input());
  assert.ok(local.ok);
  assert.equal(local.env.PROMETHEUS_URL, 'http://127.0.0.1:9090', 'a loopback URL stays as written');

  const refused = workerPodCommand(input({ env: { TEMPORAL_ADDRESS: 'temporal-frontend.temporal:7234' } }));
  assert.ok(!refused.ok);
  assert.match(
    refused.reason,
    /^env TEMPORAL_ADDRESS names temporal-frontend\.temporal:7234, which is neither 127\.0\.0\.1 nor a Service of this cluster/,
  );
  assert.match(refused.reason, /no Service temporal-frontend in temporal with port 7234/);
  assert.match(refused.reason, /set it to the local address/);

  const external = workerPodCommand(input({ env: { PROMETHEUS_URL: 'https://prometheus.example.com' } }));
  assert.ok(!external.ok);
  assert.match(external.reason, /^env PROMETHEUS_URL names prometheus\.example\.com:443/);

  const flag = workerPodCommand(
    input({ args: ['worker', '--temporal-address', 'temporal-frontend.temporal:7233'] }),
  );
  assert.ok(flag.ok);
  assert.deepEqual(flag.args, ['worker', '--temporal-address', '127.0.0.1:35001']);
});

test('paths under a mount move to where its files were written; a replaced entrypoint is refused', () => {
  const command = workerPodCommand(
    input({
      env: { CUTOVER_PAYLOAD_KEYS_FILE: '/etc/cutover/payload-keys/ring.json', CUTOVER_CODEC_PORT: '8888' },
      mounts: [
        {
          mountPath: '/etc/cutover/payload-keys',
          localPath: '/state/pods/u1/mounts/etc/cutover/payload-keys',
        },
      ],
    }),
  );
  assert.ok(command.ok);
  assert.equal(
    command.env.CUTOVER_PAYLOAD_KEYS_FILE,
    '/state/pods/u1/mounts/etc/cutover/payload-keys/ring.json',
  );
  assert.equal(command.env.CUTOVER_CODEC_ADDRESS, '127.0.0.1');
  assert.equal(command.ports.get(8888), Number(command.env.CUTOVER_CODEC_PORT));

  const replaced = workerPodCommand(input({ command: ['sh', '-c', 'sleep 1'] }));
  assert.ok(!replaced.ok);
  assert.match(replaced.reason, /container\.command .* replaces the image's entrypoint/);
});
