// The worker's API clients reuse their connections to the real API server. The library's own clients
// open one, with a TLS handshake, per request: 40 connections for these 40 calls when this was written.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { test } from 'node:test';
import { reuseApiConnections } from '../../worker/kube-connections.ts';
import { endpoints } from '../support/cluster.ts';

/** New connections undici opens while `run` runs (its diagnostics channel, shared by every copy of it). */
async function connectionsDuring(run: () => Promise<void>): Promise<number> {
  let opened = 0;
  const onConnect = (): void => {
    opened += 1;
  };
  diagnostics.subscribe('undici:client:connected', onConnect);
  try {
    await run();
  } finally {
    diagnostics.unsubscribe('undici:client:connected', onConnect);
  }
  return opened;
}

async function thirtyReads(config: k8s.KubeConfig): Promise<void> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  for (let i = 0; i < 30; i++) await core.readNamespace({ name: 'default' });
  await Promise.all(Array.from({ length: 10 }, () => core.readNamespace({ name: 'default' })));
}

function loaded(): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(endpoints.kubeconfig);
  return config;
}

test('40 API calls through the worker KubeConfig open at most a few connections', async () => {
  const reused = await connectionsDuring(() => thirtyReads(reuseApiConnections(loaded())));
  assert.ok(reused >= 1 && reused <= 10, `${reused} connections for 40 calls`);
});
