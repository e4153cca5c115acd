import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  EncryptionCodec,
  PayloadCodecError,
  codecServerHandler,
  derivedKeyId,
  encryptedEncoding,
  keyIdMetadataKey,
  loadKeyRing,
  parseKeyRing,
} from '../../../worker/payload-codec.ts';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const ringOf = (...entries: [string, Buffer][]): EncryptionCodec =>
  new EncryptionCodec(
    parseKeyRing(entries.map(([id, k]) => `${id}=${k.toString('base64')}`).join('\n'), 'test'),
  );

const secretSpec = {
  webhooks: [{ name: 'smoke', metadata: { token: 'hunter2-very-secret' } }],
  address: 'https://user:pa55word@prometheus.internal',
};
const payloads = (): Payload[] => [
  defaultPayloadConverter.toPayload(secretSpec),
  defaultPayloadConverter.toPayload(null),
  defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2, 255])),
  defaultPayloadConverter.toPayload('x'.repeat(100_000)),
];
const text = (b: Uint8Array | null | undefined): string => new TextDecoder().decode(b ?? new Uint8Array());

describe('EncryptionCodec', () => {
  test('round trip: every payload comes back byte for byte, and none is readable on the wire', async () => {
    const codec = ringOf(['2026-12', keyA]);
    const original = payloads();
    const sealed = await codec.encode(original);
    for (const p of sealed) {
      assert.equal(text(p.metadata?.encoding), encryptedEncoding);
      assert.equal(text(p.metadata?.[keyIdMetadataKey]), '2026-12');
      const wire = Buffer.from(p.data ?? new Uint8Array()).toString('latin1');
      assert.ok(!wire.includes('hunter2') && !wire.includes('pa55word') && !wire.includes('json/plain'));
    }
    const opened = await codec.decode(sealed);
    assert.deepEqual(
      opened.map((p) => ({ metadata: p.metadata, data: Buffer.from(p.data ?? []) })),
      original.map((p) => ({ metadata: p.metadata, data: Buffer.from(p.data ?? []) })),
    );
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened[0] as Payload), secretSpec);
    assert.deepEqual(await codec.encode([]), []);
  });

  test('the same payload sealed twice differs (a fresh IV per payload)', async () => {
    const codec = ringOf(['a', keyA]);
    const [one, two] = await codec.encode([payloads()[0] as Payload, payloads()[0] as Payload]);
    assert.notDeepEqual(Buffer.from(one?.data ?? []), Buffer.from(two?.data ?? []));
  });

  test('a payload that was never encrypted passes through decode unchanged', async () => {
    const plain = payloads()[0] as Payload;
    assert.deepEqual(await ringOf(['a', keyA]).decode([plain]), [plain]);
  });

  test('wrong key: a ring without the key id says which key it needs; another key under the same id fails authentication', async () => {
    const sealed = await ringOf(['a', keyA]).encode(payloads());
    await assert.rejects(ringOf(['b', keyB]).decode(sealed), (error: Error) => {
      assert.ok(error instanceof PayloadCodecError);
      assert.match(error.message, /sealed with key "a", which this key ring does not hold \(it holds b\)/);
      return true;
    });
    await assert.rejects(ringOf(['a', keyB]).decode(sealed), /key "a" failed authentication/);
  });

  test('rotation: the new key seals, the old one still opens what it sealed', async () => {
    const old = ringOf(['old', keyA]);
    const sealedBefore = await old.encode(payloads());
    const rotated = ringOf(['new', keyB], ['old', keyA]);
    const sealedAfter = await rotated.encode(payloads());
    assert.equal(text(sealedAfter[0]?.metadata?.[keyIdMetadataKey]), 'new');
    const reopened = await rotated.decode([...sealedBefore, ...sealedAfter]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(reopened[0] as Payload), secretSpec);
    assert.deepEqual(defaultPayloadConverter.fromPayload(reopened[4] as Payload), secretSpec);
    // A worker not yet given the new key fails loudly instead of showing garbage.
    await assert.rejects(old.decode(sealedAfter), /key "new"/);
  });

  test('tampered ciphertext, IV, tag or key id is refused, never half decoded', async () => {
    const codec = ringOf(['a', keyA], ['b', keyB]);
    const [sealed] = await codec.encode([payloads()[0] as Payload]);
    const data = Buffer.from(sealed?.data ?? []);
    for (const offset of [0, 12, data.length >> 1, data.length - 1]) {
      const flipped = Buffer.from(data);
      flipped[offset] = (flipped[offset] ?? 0) ^ 0x01;
      await assert.rejects(
        codec.decode([{ ...sealed, data: flipped }]),
        /failed authentication/,
        `byte ${offset}`,
      );
    }
    await assert.rejects(codec.decode([{ ...sealed, data: data.subarray(0, 20) }]), /truncated/);
    const relabelled = {
      ...sealed,
      metadata: { ...sealed?.metadata, [keyIdMetadataKey]: new TextEncoder().encode('b') },
    };
    await assert.rejects(codec.decode([relabelled]), /failed authentication/);
  });
});

describe('key ring', () => {
  test('entries with and without ids, comments, commas; the first is current; ids derive from keys', () => {
    const ring = parseKeyRing(
      `# rotated 2026-12-01\nnew=${keyB.toString('base64')}\n\n${keyA.toString('base64')}`,
      'test',
    );
    assert.equal(ring.current, 'new');
    assert.deepEqual([...ring.keys.keys()], ['new', derivedKeyId(keyA)]);
    assert.equal(
      parseKeyRing(`${keyA.toString('base64')},x=${keyB.toString('base64')}`, 't').current,
      derivedKeyId(keyA),
    );
  });

  test('bad rings name the entry and the fix', () => {
    assert.throws(
      () => parseKeyRing('', 'CUTOVER_PAYLOAD_KEYS'),
      /CUTOVER_PAYLOAD_KEYS: no key found; add one with `openssl rand -base64 32`/,
    );
    assert.throws(
      () => parseKeyRing(randomBytes(16).toString('base64'), 'k'),
      /entry 1 is not a base64 AES-256 key \(32 bytes\)/,
    );
    assert.throws(
      () => parseKeyRing(`a=${keyA.toString('base64')}\na=${keyB.toString('base64')}`, 'k'),
      /key id "a" appears twice/,
    );
    assert.throws(
      () => parseKeyRing(`a b=${keyA.toString('base64')}`, 'k'),
      /key id "a b" of entry 1 may use only/,
    );
    assert.throws(() => parseKeyRing('not base64 at all!', 'k'), /entry 1 is not a base64/);
  });

  test('from a mounted Secret file (wins) or the environment; none set means no encryption', () => {
    const dir = mkdtempSync(join(tmpdir(), 'codec-'));
    const file = join(dir, 'keys');
    writeFileSync(file, `file=${keyA.toString('base64')}\n`);
    const env = { CUTOVER_PAYLOAD_KEYS: `env=${keyB.toString('base64')}` };
    assert.equal(loadKeyRing({ env })?.current, 'env');
    assert.equal(loadKeyRing({ env: { ...env, CUTOVER_PAYLOAD_KEYS_FILE: file } })?.current, 'file');
    assert.equal(loadKeyRing({ env, file })?.current, 'file');
    assert.equal(loadKeyRing({ env: {} }), undefined);
    assert.throws(
      () => loadKeyRing({ env: { CUTOVER_PAYLOAD_KEYS_FILE: join(dir, 'missing') } }),
      /cannot be read .*mount the Secret/,
    );
  });
});

describe('codec server protocol', () => {
  const ui = 'http://127.0.0.1:8233';
  let base = '';
  const server = createServer((request, response) => {
    void handler(request, response).then((handled) => {
      if (!handled) {
        response.writeHead(404);
        response.end();
      }
    });
  });
  const codec = ringOf(['a', keyA]);
  const handler = codecServerHandler(codec, { allowedOrigins: [ui], maxBodyBytes: 64 * 1024 });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const json = (p: Payload): { metadata: Record<string, string>; data: string } => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  test('/encode then /decode (also under a namespace prefix, as the CLI templates it) round-trips proto3-JSON payloads', async () => {
    const original = json(defaultPayloadConverter.toPayload(secretSpec));
    const encoded = await post('/encode', { payloads: [original] });
    assert.equal(encoded.status, 200);
    const sealed = (
      (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }
    ).payloads;
    assert.equal(Buffer.from(sealed[0]?.metadata.encoding ?? '', 'base64').toString(), encryptedEncoding);
    assert.ok(
      !Buffer.from(sealed[0]?.data ?? '', 'base64')
        .toString('latin1')
        .includes('hunter2'),
    );
    const decoded = await post('/default/decode', { payloads: sealed }, { origin: ui });
    assert.equal(decoded.status, 200);
    assert.equal(decoded.headers.get('access-control-allow-origin'), ui);
    assert.equal(decoded.headers.get('access-control-allow-credentials'), 'true');
    assert.deepEqual(await decoded.json(), { payloads: [original] });
  });

  test("CORS preflight from Temporal UI's origin allows its headers; another origin is refused", async () => {
    const preflight = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: ui,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-namespace,content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), ui);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    const other = await post('/decode', { payloads: [] }, { origin: 'https://evil.example' });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  test('bad requests get a status and a reason, not a crash', async () => {
    assert.equal((await post('/decode', 'not json')).status, 400);
    assert.match(
      ((await (await post('/decode', { nope: 1 })).json()) as { message: string }).message,
      /"payloads" array/,
    );
    assert.equal((await post('/decode', { payloads: [{ data: 'x'.repeat(70_000) }] })).status, 413);
    assert.equal((await fetch(`${base}/decode`)).status, 405);
    assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
    const foreign = await ringOf(['z', keyB]).encode([defaultPayloadConverter.toPayload(1)]);
    const wrongKey = await post('/decode', { payloads: foreign.map(json) });
    assert.equal(wrongKey.status, 400);
    assert.match(((await wrongKey.json()) as { message: string }).message, /key "z"/);
  });

  test('an authorize hook guards the endpoints', async () => {
    const guarded = codecServerHandler(codec, { authorize: (r) => r.headers.authorization === 'Bearer ok' });
    const local = createServer((request, response) => void guarded(request, response));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(local.address() as AddressInfo).port}/decode`;
    try {
      const body = JSON.stringify({ payloads: [] });
      assert.equal((await fetch(url, { method: 'POST', body })).status, 401);
      assert.equal(
        (await fetch(url, { method: 'POST', body, headers: { authorization: 'Bearer ok' } })).status,
        200,
      );
    } finally {
      local.closeAllConnections();
      await new Promise<void>((resolve) => local.close(() => resolve()));
    }
  });
});
