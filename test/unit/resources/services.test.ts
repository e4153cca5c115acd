import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apexBeforeTakeoverAnnotation,
  apexService,
  apexTakeoverPatch,
  canaryService,
  primaryService,
  servicePorts,
  type ServiceSettings,
} from '../../../resources/services.ts';
import { canary, target } from './fixtures.ts';

const service: ServiceSettings = {
  name: 'web',
  port: 80,
  portName: 'http',
  targetPort: 9898,
  portDiscovery: false,
};

test('apex and primary Services select the primary pods, the canary Service the target pods', () => {
  const input = { canary, target: target(), service };
  const apex = apexService(input);
  const primary = primaryService(input);
  const green = canaryService(input);
  assert.deepEqual(
    [apex.metadata?.name, primary.metadata?.name, green.metadata?.name],
    ['web', 'web-primary', 'web-canary'],
  );
  assert.deepEqual(apex.spec?.selector, { app: 'podinfo-primary' });
  assert.deepEqual(primary.spec?.selector, { app: 'podinfo-primary' });
  assert.deepEqual(green.spec?.selector, { app: 'podinfo' });
  for (const svc of [apex, primary, green]) {
    assert.equal(svc.spec?.type, 'ClusterIP');
    assert.equal(svc.metadata?.ownerReferences?.[0]?.uid, canary.uid);
    assert.equal(svc.metadata?.labels?.['app.kubernetes.io/managed-by'], 'cutover');
    assert.deepEqual(svc.spec?.ports, [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 9898 }]);
  }
});

test('port discovery adds the other container ports, naming unnamed ones tcp-<container>-<index>', () => {
  assert.deepEqual(servicePorts({ ...service, portDiscovery: true }, target()), [
    { name: 'http', protocol: 'TCP', port: 80, targetPort: 9898 },
    { name: 'http-metrics', protocol: 'TCP', port: 9797, targetPort: 9797 },
    { name: 'tcp-podinfod-2', protocol: 'TCP', port: 9999, targetPort: 9999 },
  ]);
});

test('port discovery skips the port targetPort names and ports whose name or number is taken', () => {
  const ports = servicePorts(
    { name: 'web', port: 9797, portName: 'web', targetPort: 'http', portDiscovery: true },
    target(),
  );
  assert.deepEqual(ports, [
    { name: 'web', protocol: 'TCP', port: 9797, targetPort: 'http' },
    { name: 'tcp-podinfod-2', protocol: 'TCP', port: 9999, targetPort: 9999 },
  ]);
});

test('taking over an apex replaces exactly its selector and ports and remembers them once', () => {
  const desired = apexService({ canary, target: target(), service });
  const existing = {
    metadata: { name: 'web', annotations: { 'example.com/x': 'y' } },
    spec: { selector: { app: 'podinfo' }, ports: [{ port: 80, targetPort: 8080 }] },
  };
  const ops = apexTakeoverPatch({ existing, desired });
  assert.deepEqual(ops.slice(0, 2), [
    { op: 'add', path: '/spec/selector', value: { app: 'podinfo-primary' } },
    { op: 'add', path: '/spec/ports', value: desired.spec?.ports },
  ]);
  assert.equal(ops[2]?.path, '/metadata/annotations/cutover.io~1apex-before-takeover');
  assert.deepEqual(JSON.parse(String(ops[2]?.value)), {
    selector: { app: 'podinfo' },
    ports: [{ port: 80, targetPort: 8080 }],
  });

  const again = apexTakeoverPatch({
    existing: { ...existing, metadata: { annotations: { [apexBeforeTakeoverAnnotation]: '{}' } } },
    desired,
  });
  assert.equal(again.length, 2, 'a second takeover keeps what the first remembered');
  const bare = apexTakeoverPatch({ existing: { spec: {} }, desired });
  assert.equal(bare[2]?.path, '/metadata/annotations');
});
