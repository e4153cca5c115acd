import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import {
  TemporalTlsError,
  ensureSearchAttributes,
  temporalConnectionOptions,
} from '../../../worker/temporal-connection.ts';
import type { HasOperatorService } from '../../../worker/temporal-connection.ts';

const dir = mkdtempSync(join(tmpdir(), 'cutover-tls-'));
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyPath = join(dir, 'client.key');
writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
// The content of a certificate does not matter here: only that it is a PEM CERTIFICATE block.
const certPem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const certPath = join(dir, 'client.pem');
writeFileSync(certPath, certPem);
const caPath = join(dir, 'ca.pem');
writeFileSync(caPath, certPem);
const derPath = join(dir, 'ca.der');
writeFileSync(derPath, Buffer.from([0x30, 0x82, 0x01, 0x0a]));

test('plaintext: address only, and TLS explicitly off', () => {
  const options = temporalConnectionOptions({
    address: '127.0.0.1:7233',
    namespace: 'default',
    taskQueue: 'q',
  });
  assert.deepEqual(options.native, { address: '127.0.0.1:7233', tls: false });
  assert.deepEqual(options.client, { address: '127.0.0.1:7233', tls: false });
});

test('mTLS with a private CA and a server name: the PEM files read into both connections', () => {
  const options = temporalConnectionOptions({
    address: 'temporal.internal:7233',
    namespace: 'default',
    taskQueue: 'q',
    tls: {
      clientCertPath: certPath,
      clientKeyPath: keyPath,
      serverCaPath: caPath,
      serverName: 'frontend.temporal',
    },
  });
  const expected = {
    serverNameOverride: 'frontend.temporal',
    serverRootCACertificate: readFileSync(caPath),
    clientCertPair: { crt: readFileSync(certPath), key: readFileSync(keyPath) },
  };
  assert.deepEqual(options.native.tls, expected);
  assert.deepEqual(options.client.tls, expected);
});

test('Temporal Cloud with an API key: TLS with the system CAs and the key on both connections', () => {
  const options = temporalConnectionOptions({
    address: 'ns.acct.tmprl.cloud:7233',
    namespace: 'ns.acct',
    taskQueue: 'q',
    tls: {},
    apiKey: 'secret',
  });
  assert.deepEqual(options.native, { address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'secret' });
  assert.deepEqual(options.client, { address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'secret' });
});

test('an API key without TLS stays plaintext (the SDKs would otherwise turn TLS on)', () => {
  const options = temporalConnectionOptions({
    address: 'proxy:7233',
    namespace: 'n',
    taskQueue: 'q',
    apiKey: 'k',
  });
  assert.equal(options.native.tls, false);
  assert.equal(options.client.tls, false);
});

test('a missing or non-PEM file fails with its path and what it was for', () => {
  const settings = { address: 'a:7233', namespace: 'n', taskQueue: 'q' };
  assert.throws(
    () => temporalConnectionOptions({ ...settings, tls: { serverCaPath: join(dir, 'gone.pem') } }),
    (error: unknown) =>
      error instanceof TemporalTlsError &&
      error.message ===
        `cannot read the TLS CA (--tls-ca / TEMPORAL_TLS_CA) at '${join(dir, 'gone.pem')}' (ENOENT); give the path of a readable PEM file`,
  );
  assert.throws(() => temporalConnectionOptions({ ...settings, tls: { serverCaPath: derPath } }), {
    message: `the TLS CA (--tls-ca / TEMPORAL_TLS_CA) at '${derPath}' is not PEM: expected a '-----BEGIN CERTIFICATE-----' block (convert DER with openssl)`,
  });
  assert.throws(
    () =>
      temporalConnectionOptions({ ...settings, tls: { clientCertPath: certPath, clientKeyPath: certPath } }),
    {
      message:
        /the client key \(--tls-key \/ TEMPORAL_TLS_KEY\) at '.*client\.pem' is not PEM: expected a '-----BEGIN PRIVATE KEY-----' block/,
    },
  );
  assert.throws(() => temporalConnectionOptions({ ...settings, tls: { clientCertPath: certPath } }), {
    message: 'mTLS needs both --tls-cert and --tls-key (TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY)',
  });
});

const KEYWORD = 2;
const TEXT = 1;

/** An operator service that keeps its attributes in a map, as the server does, and records calls. */
function fakeOperator(
  existing: Record<string, number>,
  behaviour: { listError?: Error; addError?: Error } = {},
): HasOperatorService & { added: Record<string, number>[] } {
  const added: Record<string, number>[] = [];
  const operatorService = {
    async listSearchAttributes(request: { namespace?: string | null }) {
      assert.equal(request.namespace, 'default');
      if (behaviour.listError !== undefined) throw behaviour.listError;
      return { customAttributes: { ...existing }, systemAttributes: {}, storageSchema: {} };
    },
    async addSearchAttributes(request: { searchAttributes?: Record<string, number> | null }) {
      const attributes = request.searchAttributes ?? {};
      added.push(attributes);
      if (behaviour.addError !== undefined) throw behaviour.addError;
      Object.assign(existing, attributes);
      return {};
    },
  };
  return { operatorService, added } as unknown as HasOperatorService & { added: Record<string, number>[] };
}

function grpcError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

test('registers the missing Cutover search attributes as Keyword, then finds nothing to do', async () => {
  const connection = fakeOperator({ CutoverCanary: KEYWORD });
  assert.deepEqual(await ensureSearchAttributes(connection, 'default'), {
    added: ['CutoverNamespace', 'CutoverRevision', 'CutoverPhase', 'CutoverImage', 'CutoverOutcome'],
  });
  assert.deepEqual(connection.added, [
    {
      CutoverNamespace: KEYWORD,
      CutoverRevision: KEYWORD,
      CutoverPhase: KEYWORD,
      CutoverImage: KEYWORD,
      CutoverOutcome: KEYWORD,
    },
  ]);
  assert.deepEqual(await ensureSearchAttributes(connection, 'default'), { added: [] });
  assert.equal(connection.added.length, 1);
});

test('ALREADY_EXISTS from a worker that registered them first is fine', async () => {
  const connection = fakeOperator(
    {},
    { addError: grpcError(6, '6 ALREADY_EXISTS: Search attribute already exists') },
  );
  const result = await ensureSearchAttributes(connection, 'default');
  assert.equal(result.warning, undefined);
});

test('a refusal (Temporal Cloud) is a warning that says where to register them, not an exception', async () => {
  const connection = fakeOperator(
    {},
    { addError: grpcError(7, '7 PERMISSION_DENIED: Request unauthorized.') },
  );
  const result = await ensureSearchAttributes(connection, 'default');
  assert.deepEqual(result.added, []);
  assert.equal(
    result.warning,
    "could not add Cutover's search attributes (CutoverCanary, CutoverNamespace, CutoverRevision, CutoverPhase, CutoverImage, CutoverOutcome) in Temporal namespace 'default': 7 PERMISSION_DENIED: Request unauthorized; register them yourself as Keyword attributes (Temporal Cloud: its UI or 'tcld namespace search-attributes add'; self-hosted: 'temporal operator search-attribute create'). Until then rollout workflows fail their tasks when they upsert them.",
  );
  const unreachable = await ensureSearchAttributes(
    fakeOperator({}, { listError: grpcError(14, '14 UNAVAILABLE: connection refused') }),
    'default',
  );
  assert.match(
    unreachable.warning ?? '',
    /^could not list Cutover's search attributes .* 14 UNAVAILABLE: connection refused; check the connection/,
  );
  const noNamespace = await ensureSearchAttributes(
    fakeOperator({}, { listError: grpcError(5, 'Namespace default is not found.') }),
    'default',
  );
  assert.match(
    noNamespace.warning ?? '',
    /is not found; create the namespace or fix --temporal-namespace \/ TEMPORAL_NAMESPACE\./,
  );
});

test('an attribute of the wrong type is reported', async () => {
  const connection = fakeOperator({
    CutoverCanary: TEXT,
    CutoverNamespace: KEYWORD,
    CutoverRevision: KEYWORD,
    CutoverPhase: KEYWORD,
    CutoverImage: KEYWORD,
    CutoverOutcome: KEYWORD,
  });
  assert.deepEqual(await ensureSearchAttributes(connection, 'default'), {
    added: [],
    warning:
      "search attributes in Temporal namespace 'default': CutoverCanary exists with another type (Text, Cutover needs Keyword); Cutover's search attribute upserts will fail until the type is fixed",
  });
});
