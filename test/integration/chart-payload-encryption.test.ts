// The payload key in the Helm chart and in deploy/: a Secret mounted as a file, the environment the
// worker reads it from, and the codec server's settings, rendered by the real helm and kustomize and
// read back by the worker's own configuration parser, so a renamed variable cannot slip through.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import YAML from 'yaml';
import { readVersions, toolPath } from '../../stack/tools.ts';
import { loadWorkerConfig } from '../../worker/config.ts';
import { endpoints } from '../support/cluster.ts';
import { runCommand } from '../support/run-command.ts';
import { deployDir, repoRoot } from '../unit/deploy/manifests.ts';

const chartDir = join(repoRoot, 'charts', 'cutover');
const helmHome = mkdtempSync(join(tmpdir(), 'cutover-helm-keys-'));
const kubeVersion = readVersions().KUBERNETES_VERSION ?? 'v1.34.4';

async function renderDeployment(
  set: string[],
): Promise<{ code: number; deployment?: k8s.V1Deployment; stderr: string }> {
  const result = await runCommand(
    toolPath('helm'),
    [
      'template',
      'r',
      chartDir,
      '--kube-version',
      kubeVersion.replace(/-.*$/, ''),
      '--show-only',
      'templates/deployment.yaml',
      ...set.flatMap((s) => ['--set', s]),
    ],
    {
      env: {
        ...process.env,
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_DATA_HOME: join(helmHome, 'data'),
      },
    },
  );
  if (result.code !== 0) return { code: result.code, stderr: result.stderr };
  return {
    code: 0,
    deployment: YAML.parse(result.stdout, { version: '1.1' }) as k8s.V1Deployment,
    stderr: result.stderr,
  };
}

/** The container's plain environment variables, as the worker would see them. */
function envOf(deployment: k8s.V1Deployment | undefined): Record<string, string> {
  const container = deployment?.spec?.template.spec?.containers[0];
  return Object.fromEntries(
    (container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]),
  );
}

test('chart: no payload key by default; with one, the Secret is a file the worker reads, and the codec server on loopback', async () => {
  const plain = await renderDeployment([]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(envOf(plain.deployment).CUTOVER_PAYLOAD_KEYS_FILE, undefined);
  assert.equal(
    plain.deployment?.spec?.template.spec?.volumes?.find((v) => v.name === 'payload-keys'),
    undefined,
  );

  const sealed = await renderDeployment([
    'payloadEncryption.secretName=cutover-payload-keys',
    'payloadEncryption.codecServer.enabled=true',
    'payloadEncryption.codecServer.corsOrigins={http://localhost:8233}',
    'payloadEncryption.codecServer.tokenSecretName=cutover-codec-token',
  ]);
  assert.equal(sealed.code, 0, sealed.stderr);
  const spec = sealed.deployment?.spec?.template.spec;
  const env = envOf(sealed.deployment);
  // Never the key itself in the environment: only where the file is.
  assert.ok(
    !(spec?.containers[0]?.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === 'cutover-payload-keys'),
  );
  assert.deepEqual(spec?.volumes?.find((v) => v.name === 'payload-keys')?.secret, {
    secretName: 'cutover-payload-keys',
    defaultMode: 0o440,
    items: [{ key: 'payload-keys', path: 'payload-keys' }],
  });
  assert.deepEqual(
    spec?.containers[0]?.volumeMounts?.filter((m) => m.name !== 'tmp'),
    [
      { name: 'payload-keys', mountPath: '/etc/cutover/payload-keys', readOnly: true },
      { name: 'codec-token', mountPath: '/etc/cutover/codec-token', readOnly: true },
    ],
  );
  const loaded = loadWorkerConfig([], { ...env, KUBECONFIG: endpoints.kubeconfig });
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
  assert.equal(loaded.config.payloadKeyFile, '/etc/cutover/payload-keys/payload-keys');
  assert.deepEqual(loaded.config.codecServer, {
    port: 8888,
    address: '127.0.0.1',
    allowedOrigins: ['http://localhost:8233'],
    tokenFile: '/etc/cutover/codec-token/token',
  });

  const keyless = await renderDeployment(['payloadEncryption.codecServer.enabled=true']);
  assert.notEqual(keyless.code, 0);
  assert.match(
    keyless.stderr,
    /payloadEncryption\.codecServer\.enabled needs the key ring: set payloadEncryption\.secretName/,
  );
  const badOrigin = await renderDeployment(['payloadEncryption.codecServer.corsOrigins={http://ui/path}']);
  assert.notEqual(badOrigin.code, 0);
  assert.match(badOrigin.stderr, /payloadEncryption\/codecServer\/corsOrigins\/0/);
});

test('deploy/: the base mounts an optional key Secret it does not read; the example overlay requires and reads it', async () => {
  const kustomize = async (dir: string): Promise<k8s.V1Deployment> => {
    const { stdout, code, stderr } = await runCommand(toolPath('kubectl'), ['kustomize', dir]);
    assert.equal(code, 0, stderr);
    return YAML.parseAllDocuments(stdout)
      .map((doc) => doc.toJS() as k8s.V1Deployment & { kind?: string })
      .find((o) => o.kind === 'Deployment') as k8s.V1Deployment;
  };
  const base = await kustomize(join(deployDir, 'base'));
  assert.equal(envOf(base).CUTOVER_PAYLOAD_KEYS_FILE, undefined);
  assert.equal(
    base.spec?.template.spec?.volumes?.find((v) => v.name === 'payload-keys')?.secret?.optional,
    true,
  );
  const overlay = await kustomize(join(deployDir, 'overlays', 'example'));
  assert.equal(envOf(overlay).CUTOVER_PAYLOAD_KEYS_FILE, '/etc/cutover/payload-keys/payload-keys');
  assert.deepEqual(overlay.spec?.template.spec?.volumes?.find((v) => v.name === 'payload-keys')?.secret, {
    secretName: 'cutover-payload-keys',
    optional: false,
    defaultMode: 0o440,
  });
  assert.ok(
    overlay.spec?.template.spec?.containers[0]?.volumeMounts?.some(
      (m) => m.name === 'payload-keys' && m.mountPath === '/etc/cutover/payload-keys',
    ),
  );
});
