// The pieces that put the payload codec to work: the worker's flags, the data converters of the worker
// and its clients (failure messages sealed too), the keyless codec's one line, the codec server's
// guards, and the decoding of a fetched history. The real rollout is test/integration/payload-encryption.
import { DefaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import type { FailureConverter, Payload } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePayloadsInPlace } from '../../../client/history-payloads.ts';
import {
  bearerTokenCheck,
  codecServerProblem,
  loadCodecToken,
  parseOrigins,
  startCodecServer,
} from '../../../worker/codec-server.ts';
import { loadWorkerConfig } from '../../../worker/config.ts';
import { dataConverters, describeKeyRing } from '../../../worker/data-converter.ts';
import { KeylessCodec, PayloadCodecError, parseKeyRing } from '../../../worker/payload-codec.ts';
import type { IncomingMessage } from 'node:http';

const dir = mkdtempSync(join(tmpdir(), 'cutover-codec-wiring-'));
const kubeconfig = join(dir, 'kubeconfig.yaml');
writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');
const key = randomBytes(32).toString('base64');
const ring = parseKeyRing(`k2=${key}`, 'test');
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

test('worker flags: a key file, and a codec server that needs a key and valid origins', () => {
  const env = { KUBECONFIG: kubeconfig };
  const loaded = loadWorkerConfig(
    [
      '--payload-key-file',
      '/keys/ring',
      '--codec-port',
      '8888',
      '--codec-cors-origins',
      'http://127.0.0.1:8233/',
    ],
    env,
  );
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error);
  assert.equal(loaded.config.payloadKeyFile, '/keys/ring');
  assert.deepEqual(loaded.config.codecServer, {
    port: 8888,
    address: '127.0.0.1',
    allowedOrigins: ['http://127.0.0.1:8233'],
  });
  const fromEnv = loadWorkerConfig([], { ...env, CUTOVER_PAYLOAD_KEYS_FILE: '/keys/ring' });
  assert.ok(fromEnv.ok && fromEnv.config.payloadKeyFile === '/keys/ring');
  const off = loadWorkerConfig([], env);
  assert.ok(off.ok && off.config.payloadKeyFile === undefined && off.config.codecServer === undefined);

  const keyless = loadWorkerConfig(['--codec-port', '8888'], env);
  assert.ok(!keyless.ok);
  assert.match(
    keyless.error,
    /^--codec-port starts the codec server, which needs the payload key: set --payload-key-file/,
  );
  const inline = loadWorkerConfig(['--codec-port', '8888'], { ...env, CUTOVER_PAYLOAD_KEYS: key });
  assert.ok(inline.ok);
  const badOrigin = loadWorkerConfig(
    ['--codec-port', '8888', '--codec-cors-origins', 'http://ui.example/path'],
    { ...env, CUTOVER_PAYLOAD_KEYS: key },
  );
  assert.ok(!badOrigin.ok);
  assert.match(
    badOrigin.error,
    /--codec-cors-origins must list origins like http:\/\/127\.0\.0\.1:8233.*'http:\/\/ui\.example\/path'/,
  );
});

test('without a key, payloads pass as they are and a sealed one fails naming its key id', async () => {
  const converters = dataConverters(undefined);
  assert.deepEqual(await converters.codec.encode([plain('x')]), [plain('x')]);
  assert.deepEqual(describeKeyRing(undefined), { payloadEncryption: 'off (no payload key configured)' });
  const [sealed] = await dataConverters(ring).codec.encode([plain({ token: 'hunter2' })]);
  await assert.rejects(
    new KeylessCodec().decode([sealed as Payload]),
    (error: unknown) =>
      error instanceof PayloadCodecError &&
      /^payload sealed with key "k2", but no payload key is configured: give the key ring with --payload-key-file/.test(
        error.message,
      ),
  );
  assert.deepEqual(describeKeyRing(ring), {
    payloadEncryption: 'AES-256-GCM',
    payloadKeyCurrent: 'k2',
    payloadKeyIds: ['k2'],
  });
});

test("with a key, the worker's failure converter puts an activity failure's message into a sealed payload", async () => {
  const converters = dataConverters(ring);
  assert.equal(converters.client.failureConverterPath, undefined);
  const path = converters.worker.failureConverterPath;
  assert.ok(path);
  // The SDK require()s it on the worker's main thread.
  const { failureConverter } = createRequire(import.meta.url)(path) as { failureConverter: FailureConverter };
  const failure = failureConverter.errorToFailure(
    new Error('Prometheus http://user:hunter2@prom unavailable'),
    defaultPayloadConverter,
  );
  assert.equal(failure.message, 'Encoded failure');
  assert.equal(failure.stackTrace, '');
  const [sealed] = await converters.codec.encode([failure.encodedAttributes as Payload]);
  assert.doesNotMatch(Buffer.from((sealed as Payload).data ?? []).toString('latin1'), /hunter2/);
  // A client with only the codec reads it back: the default converter honours encodedAttributes.
  const [opened] = await converters.codec.decode([sealed as Payload]);
  const error = new DefaultFailureConverter().failureToError(
    { ...failure, encodedAttributes: opened },
    defaultPayloadConverter,
  );
  assert.match(error.message, /hunter2/);
});

test('a fetched history is decoded in place, wherever its payloads sit', async () => {
  const { codec } = dataConverters(ring);
  const [input] = await codec.encode([plain({ metadata: { ticket: 'CHG-1' } })]);
  const [result] = await codec.encode([plain('promoted')]);
  const events = [
    { eventId: 1, workflowExecutionStartedEventAttributes: { input: { payloads: [input] } } },
    { eventId: 2, activityTaskCompletedEventAttributes: { result: { payloads: [result, plain('as is')] } } },
  ];
  await decodePayloadsInPlace(events, [codec]);
  const payloads = [
    events[0]?.workflowExecutionStartedEventAttributes?.input.payloads[0],
    ...(events[1]?.activityTaskCompletedEventAttributes?.result.payloads ?? []),
  ].map((p) => defaultPayloadConverter.fromPayload(p as Payload));
  assert.deepEqual(payloads, [{ metadata: { ticket: 'CHG-1' } }, 'promoted', 'as is']);
});

test('codec server guards: origins, tokens, and no open decryption off loopback', async () => {
  assert.deepEqual(parseOrigins(' http://a:1 , https://b/ '), { origins: ['http://a:1', 'https://b'] });
  assert.equal(parseOrigins('ftp://x').invalid, 'ftp://x');
  assert.equal(loadCodecToken(undefined, {}), undefined);
  assert.throws(() => loadCodecToken(undefined, { CUTOVER_CODEC_TOKEN: 'short' }), /at least 16 are needed/);
  assert.throws(() => loadCodecToken(join(dir, 'missing'), {}), /codec token file .*missing cannot be read/);
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'a-long-enough-token-0123\n');
  assert.equal(loadCodecToken(tokenFile, {}), 'a-long-enough-token-0123');

  const check = bearerTokenCheck('a-long-enough-token-0123');
  const request = (authorization?: string) => ({ headers: { authorization } }) as IncomingMessage;
  assert.equal(check(request('Bearer a-long-enough-token-0123')), true);
  assert.equal(check(request('Bearer a-long-enough-token-0124')), false);
  assert.equal(check(request()), false);

  const open = { port: 8888, allowedOrigins: [] };
  assert.equal(codecServerProblem({ ...open, address: '127.0.0.1' }), undefined);
  assert.match(
    codecServerProblem({ ...open, address: '0.0.0.0' }) ?? '',
    /decrypt for anyone who reaches 0\.0\.0\.0:8888/,
  );
  assert.equal(
    codecServerProblem({ ...open, address: '0.0.0.0', token: 'a-long-enough-token-0123' }),
    undefined,
  );

  const server = await startCodecServer(dataConverters(ring).codec, {
    ...open,
    port: 0,
    address: '127.0.0.1',
    token: 'a-long-enough-token-0123',
  });
  try {
    const other = await fetch(`${server.url}/metrics`);
    assert.equal(other.status, 404);
    const refused = await fetch(`${server.url}/decode`, { method: 'POST', body: '{"payloads":[]}' });
    assert.equal(refused.status, 401);
    const answered = await fetch(`${server.url}/default/encode`, {
      method: 'POST',
      headers: { authorization: 'Bearer a-long-enough-token-0123' },
      body: JSON.stringify({ payloads: [] }),
    });
    assert.deepEqual(await answered.json(), { payloads: [] });
  } finally {
    await server.close();
  }
});
