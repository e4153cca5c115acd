import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  clusterPortNames,
  clusterPortRange,
  clusterPortsFile,
  clusterPortsForCreate,
  portFree,
} from '../../../stack/cluster-ports.ts';

test('the cluster gets distinct free ports below the ephemeral range, remembered for the next time', async () => {
  const state = mkdtempSync(join(tmpdir(), 'cutover-ports-'));
  try {
    const first = await clusterPortsForCreate(state, [7233, 8233]);
    const values = clusterPortNames.map((n) => first[n]);
    assert.equal(new Set(values).size, values.length, 'no port is used twice');
    for (const port of values) {
      assert.ok(port >= clusterPortRange.low && port < clusterPortRange.high, `${port} is in the range`);
      assert.ok(await portFree(port));
    }
    assert.deepEqual(JSON.parse(readFileSync(clusterPortsFile(state), 'utf8')), first);
    assert.deepEqual(await clusterPortsForCreate(state, []), first, 'the remembered ports are kept');
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test('a remembered port that something else took meanwhile is replaced by a free one', async () => {
  const state = mkdtempSync(join(tmpdir(), 'cutover-ports-'));
  const squatter = createServer();
  try {
    const first = await clusterPortsForCreate(state, []);
    await new Promise<void>((resolve) => squatter.listen(first.etcd, '127.0.0.1', () => resolve()));
    const second = await clusterPortsForCreate(state, []);
    assert.notEqual(second.etcd, first.etcd);
    assert.equal(second.kubeScheduler, first.kubeScheduler);
  } finally {
    squatter.close();
    rmSync(state, { recursive: true, force: true });
  }
});
