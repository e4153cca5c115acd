// The kubeconfig resolves as kubectl's does: --kubeconfig, else $KUBECONFIG's list, else
// ~/.kube/config, and only then the local stack's; files merge with the first one winning.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { contextNamespace, defaultKubeconfig, loadKubeconfig } from '../../../client/kubeconfig.ts';
import { CliError } from '../../../client/commands/context.ts';

test('the default is $KUBECONFIG, else ~/.kube/config when it exists, else the local stack', () => {
  const base = { home: '/home/ann', localStack: '/stack/kubeconfig.yaml' };
  assert.equal(defaultKubeconfig({ ...base, env: { KUBECONFIG: '/a:/b' } }), '/a:/b');
  assert.equal(
    defaultKubeconfig({ ...base, env: {}, exists: (p) => p === '/home/ann/.kube/config' }),
    '/home/ann/.kube/config',
  );
  assert.equal(
    defaultKubeconfig({ ...base, env: { KUBECONFIG: '' }, exists: () => false }),
    '/stack/kubeconfig.yaml',
  );
});

function kubeconfig(current: string, contexts: { name: string; namespace?: string }[]): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': current,
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: contexts.map((c) => ({
      name: c.name,
      context: { cluster: 'c', user: 'u', namespace: c.namespace },
    })),
  });
}

test('files merge in order, the first wins; --context picks another; its namespace is the default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-kubeconfig-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  writeFileSync(a, kubeconfig('dev', [{ name: 'dev', namespace: 'team' }]));
  writeFileSync(b, kubeconfig('prod', [{ name: 'dev', namespace: 'ignored' }, { name: 'prod' }]));
  const merged = loadKubeconfig(`${a}:${join(dir, 'missing')}:${b}`);
  assert.equal(merged.getCurrentContext(), 'dev');
  assert.equal(contextNamespace(merged), 'team');
  const prod = loadKubeconfig(`${a}:${b}`, 'prod');
  assert.equal(contextNamespace(prod), 'default');
  assert.throws(
    () => loadKubeconfig(a, 'nope'),
    (e: unknown) =>
      e instanceof CliError && e.exitCode === 64 && /--context nope is not in .*; it has dev/.test(e.message),
  );
  assert.throws(
    () => loadKubeconfig(join(dir, 'missing')),
    (e: unknown) => e instanceof CliError && e.exitCode === 5,
  );
});
