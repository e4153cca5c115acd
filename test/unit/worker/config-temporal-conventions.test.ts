// The worker accepts Temporal's own environment names (@temporalio/envconfig, the temporal CLI's)
// beside ours, and a profile of Temporal's config file for what neither a flag nor a variable sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkerConfig, workerCommand } from '../../../worker/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'cutover-envconfig-'));
const kubeconfig = join(dir, 'kubeconfig.yaml');
writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');
const cert = join(dir, 'client.pem');
const key = join(dir, 'client.key');
const ca = join(dir, 'ca.pem');
for (const file of [cert, key, ca]) writeFileSync(file, 'pem');
const baseEnv = { KUBECONFIG: kubeconfig, HOME: dir };

function temporalOf(argv: string[], env: NodeJS.ProcessEnv) {
  const result = loadWorkerConfig(argv, { ...baseEnv, ...env });
  if (!result.ok) assert.fail(result.error);
  return result.config.temporal;
}

test("envconfig's TLS path names work like ours; ours win when both are set", () => {
  assert.deepEqual(
    temporalOf([], {
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
    }).tls,
    { clientCertPath: cert, clientKeyPath: key, serverCaPath: ca },
  );
  const other = join(dir, 'other.pem');
  writeFileSync(other, 'pem');
  assert.equal(
    temporalOf([], { TEMPORAL_TLS_CA: other, TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca }).tls?.serverCaPath,
    other,
  );
});

test('a profile of the config file fills what flags and variables leave unset', () => {
  const file = join(dir, 'temporal.toml');
  writeFileSync(
    file,
    [
      '[profile.prod]',
      'address = "prod.tmprl.cloud:7233"',
      'namespace = "prod.acct"',
      'api_key = "from-profile"',
      '[profile.prod.tls]',
      `server_ca_cert_path = "${ca}"`,
      '',
    ].join('\n'),
  );
  const temporal = temporalOf([], { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
  assert.equal(temporal.address, 'prod.tmprl.cloud:7233');
  assert.equal(temporal.namespace, 'prod.acct');
  assert.equal(temporal.apiKey, 'from-profile');
  assert.deepEqual(temporal.tls, { serverCaPath: ca });
  // The flag and the variable win over the profile.
  const overridden = temporalOf(['--temporal-address', '127.0.0.1:7233'], {
    TEMPORAL_CONFIG_FILE: file,
    TEMPORAL_PROFILE: 'prod',
    TEMPORAL_NAMESPACE: 'mine',
  });
  assert.equal(overridden.address, '127.0.0.1:7233');
  assert.equal(overridden.namespace, 'mine');

  const missing = loadWorkerConfig([], { ...baseEnv, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' });
  assert.equal(missing.ok, false);
  assert.match(
    missing.ok ? '' : missing.error,
    /^TEMPORAL_CONFIG_FILE: cannot use profile 'nope' of .*temporal\.toml/,
  );
});

test("the worker's flags are a commander command, with the worker's own help", () => {
  const command = workerCommand();
  assert.equal(command.name(), 'worker');
  assert.ok(command.options.some((o) => o.long === '--temporal-address'));
  assert.ok(command.options.some((o) => o.long === '--no-watcher'));
  assert.match(command.helpInformation(), /^Usage: cutover-worker \[flags\]/);
});
