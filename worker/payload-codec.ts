// Encryption of workflow and activity payloads before they reach Temporal: webhook metadata, Canary
// specs and hook answers are kept in the history for the namespace's retention period, so whoever can
// read the history (Temporal UI, `temporal workflow show`, a backup of Temporal's database) would read
// them in clear. Each payload is sealed with AES-256-GCM under the current key; its key id travels in
// the payload's metadata, so a rotated key keeps decoding old histories while new ones use the new key.
//
// The sealed payload follows Temporal's samples (samples-typescript `encryption`, samples-go
// `encryption`): metadata `encoding: binary/encrypted` and `encryption-key-id: <id>`, data = 12-byte
// IV ‖ ciphertext ‖ 16-byte tag of the original payload serialised as a `temporal.api.common.v1.Payload`
// protobuf message, so the codec servers of those samples and this one read each other's payloads.
//
// Temporal UI and the CLI decode through the codec server protocol (`POST /encode`, `POST /decode`,
// proto3-JSON bodies `{"payloads":[{"metadata":{"k":"<base64>"},"data":"<base64>"}]}`), which
// `codecServerHandler` serves for those who hold the keys.
import type { Payload, PayloadCodec } from '@temporalio/common';
import protobuf from 'protobufjs';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const encryptedEncoding = 'binary/encrypted';
export const keyIdMetadataKey = 'encryption-key-id';
const encodingMetadataKey = 'encoding';
const ivBytes = 12;
const tagBytes = 16;
const keyBytes = 32;

/** The keys a codec knows: `current` seals new payloads; every key in `keys` opens old ones. */
export interface PayloadKeyRing {
  current: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** One error type for every key and payload problem, with the fix in its message. */
export class PayloadCodecError extends Error {
  override name = 'PayloadCodecError';
}

/**
 * A key id derived from the key itself (the first 16 hex digits of its SHA-256): a key given without
 * an id still gets a stable one, and an id tells nothing about the key.
 */
export function derivedKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Parses a key ring: entries separated by newlines or commas, each `base64key` or `id=base64key`; blank
 * lines and `#` comments are skipped. The first entry is the current key, the others decode only:
 * rotation is "put the new key first, keep the old one until its histories have expired".
 */
export function parseKeyRing(text: string, source: string): PayloadKeyRing {
  const keys = new Map<string, Buffer>();
  let current: string | undefined;
  const entries = text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const [index, entry] of entries.entries()) {
    const separator = entry.indexOf('=');
    // Base64 ends in `=` padding, so an id is only what precedes an `=` that is followed by more text.
    const hasId = separator > 0 && entry.slice(separator + 1).replace(/=+$/, '') !== '';
    const encoded = hasId ? entry.slice(separator + 1).trim() : entry;
    const key = Buffer.from(encoded, 'base64');
    if (!/^[A-Za-z0-9+/]+=*$/.test(encoded) || key.length !== keyBytes) {
      throw new PayloadCodecError(
        `${source}: entry ${index + 1} is not a base64 AES-256 key (${keyBytes} bytes); make one with \`openssl rand -base64 32\``,
      );
    }
    const id = hasId ? entry.slice(0, separator).trim() : derivedKeyId(key);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      throw new PayloadCodecError(
        `${source}: key id "${id.slice(0, 64)}" of entry ${index + 1} may use only letters, digits, '.', '_' and '-' (at most 64)`,
      );
    }
    if (keys.has(id))
      throw new PayloadCodecError(`${source}: key id "${id}" appears twice; give each key its own id`);
    keys.set(id, key);
    current ??= id;
  }
  if (current === undefined) {
    throw new PayloadCodecError(`${source}: no key found; add one with \`openssl rand -base64 32\``);
  }
  return { current, keys };
}

export interface KeyRingSources {
  /** `CUTOVER_PAYLOAD_KEYS` (the ring itself) and `CUTOVER_PAYLOAD_KEYS_FILE` (a file holding it). */
  env?: NodeJS.ProcessEnv;
  /** A file holding the ring, e.g. a Kubernetes Secret mounted as a volume; wins over the env. */
  file?: string;
}

/**
 * The key ring from a file (a mounted Secret) or an environment variable; undefined when neither is
 * set (payloads stay unencrypted, as without a codec).
 */
export function loadKeyRing(sources: KeyRingSources = {}): PayloadKeyRing | undefined {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.CUTOVER_PAYLOAD_KEYS_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new PayloadCodecError(
        `payload key file ${file} cannot be read (${error instanceof Error ? error.message : String(error)}); mount the Secret there or fix CUTOVER_PAYLOAD_KEYS_FILE`,
      );
    }
    return parseKeyRing(text, `payload key file ${file}`);
  }
  const inline = env.CUTOVER_PAYLOAD_KEYS;
  return inline ? parseKeyRing(inline, 'CUTOVER_PAYLOAD_KEYS') : undefined;
}

// `temporal.api.common.v1.Payload`: `map<string, bytes> metadata = 1; bytes data = 2;`
const payloadMessage = new protobuf.Type('Payload')
  .add(new protobuf.MapField('metadata', 1, 'string', 'bytes'))
  .add(new protobuf.Field('data', 2, 'bytes'));

interface PayloadFields {
  metadata?: Record<string, Uint8Array>;
  data?: Uint8Array;
}

function serialisePayload(payload: Payload): Uint8Array {
  const fields: PayloadFields = {
    metadata: payload.metadata ?? {},
    ...(payload.data ? { data: payload.data } : {}),
  };
  return payloadMessage.encode(payloadMessage.fromObject(fields)).finish();
}

function parsePayload(bytes: Uint8Array): Payload {
  const fields = payloadMessage.toObject(payloadMessage.decode(bytes)) as PayloadFields;
  // protobufjs hands out Buffers over its read buffer; give back plain copies, as they went in.
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(fields.metadata ?? {})) metadata[key] = new Uint8Array(value);
  return { metadata, data: new Uint8Array(fields.data ?? []) };
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const read = (value: Uint8Array | null | undefined): string | undefined =>
  value ? new TextDecoder().decode(value) : undefined;

/** The AES-256-GCM codec; give it to the Client's and the Worker's `dataConverter.payloadCodecs`. */
export class EncryptionCodec implements PayloadCodec {
  private readonly ring: PayloadKeyRing;

  constructor(ring: PayloadKeyRing) {
    this.ring = ring;
    if (!ring.keys.has(ring.current)) {
      throw new PayloadCodecError(`the current payload key "${ring.current}" is not in the key ring`);
    }
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.ring.keys.get(this.ring.current) as Buffer;
    return payloads.map((payload) => {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(serialisePayload(payload)), cipher.final()]);
      return {
        metadata: {
          [encodingMetadataKey]: text(encryptedEncoding),
          [keyIdMetadataKey]: text(this.ring.current),
        },
        data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption was turned on (or by a client without it) pass through.
      if (read(payload.metadata?.[encodingMetadataKey]) !== encryptedEncoding) return payload;
      const keyId = read(payload.metadata?.[keyIdMetadataKey]);
      if (!keyId) throw new PayloadCodecError(`an encrypted payload has no ${keyIdMetadataKey} metadata`);
      const key = this.ring.keys.get(keyId);
      if (!key) {
        throw new PayloadCodecError(
          `payload sealed with key "${keyId}", which this key ring does not hold (it holds ${[...this.ring.keys.keys()].join(', ')}); keep retired keys in the ring until their histories expire`,
        );
      }
      const data = payload.data ?? new Uint8Array();
      if (data.length < ivBytes + tagBytes) {
        throw new PayloadCodecError(
          `encrypted payload of key "${keyId}" is truncated (${data.length} bytes)`,
        );
      }
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes));
      decipher.setAuthTag(data.subarray(data.length - tagBytes));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(data.subarray(ivBytes, data.length - tagBytes)),
          decipher.final(),
        ]);
      } catch {
        // GCM's tag check: a changed byte or a different key with the same id. Never a partial payload.
        throw new PayloadCodecError(
          `encrypted payload of key "${keyId}" failed authentication: it was altered, or the key with that id is not the one it was sealed with`,
        );
      }
      return parsePayload(plain);
    });
  }
}

/** What to tell someone who holds no key, in the worker's and the CLI's words alike. */
export const payloadKeyHint =
  'give the key ring with --payload-key-file or CUTOVER_PAYLOAD_KEYS_FILE (or CUTOVER_PAYLOAD_KEYS)';

/**
 * The codec of a process that has no key: payloads go out as they are (as without a codec), and an
 * encrypted one that comes in fails with one sentence naming its key id, instead of the payload
 * converter's "Unknown encoding: binary/encrypted".
 */
export class KeylessCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    for (const payload of payloads) {
      if (read(payload.metadata?.[encodingMetadataKey]) !== encryptedEncoding) continue;
      const keyId = read(payload.metadata?.[keyIdMetadataKey]) ?? 'unknown';
      throw new PayloadCodecError(
        `payload sealed with key "${keyId}", but no payload key is configured: ${payloadKeyHint}`,
      );
    }
    return payloads;
  }
}

// --- The codec server protocol ------------------------------------------------------------------

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function payloadFromJson(json: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(json.metadata ?? {})) {
    if (typeof value !== 'string') throw new PayloadCodecError(`metadata.${key} must be a base64 string`);
    metadata[key] = Buffer.from(value, 'base64');
  }
  if (json.data !== undefined && typeof json.data !== 'string') {
    throw new PayloadCodecError('data must be a base64 string');
  }
  return { metadata, data: Buffer.from(json.data ?? '', 'base64') };
}

function payloadToJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    metadata[key] = Buffer.from(value).toString('base64');
  }
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

export interface CodecServerOptions {
  /**
   * Origins whose browsers may call the endpoints (Temporal UI's address, e.g. `http://127.0.0.1:8233`);
   * `*` allows any. Default: none, so only the CLI (no Origin header) is served.
   */
  allowedOrigins?: readonly string[];
  /** Largest request body accepted; default 4 MiB (Temporal's own payload limit is 2 MiB). */
  maxBodyBytes?: number;
  /**
   * Decides whether a request may use the codec (say, checks the `Authorization` header Temporal UI
   * sends with "pass access token" on); default: every request. Put the server behind one or the other.
   */
  authorize?: (request: IncomingMessage) => boolean | Promise<boolean>;
}

/**
 * An HTTP handler for Temporal's codec server protocol: `POST /encode` and `POST /decode`, also under a
 * prefix such as `/{namespace}/decode` (the CLI's `--codec-endpoint` templating), with CORS for
 * Temporal UI (`X-Namespace`, `Content-Type`, `Authorization`, credentials). Returns false for any
 * other path, so it can sit in front of the worker's own routes.
 */
export function codecServerHandler(
  codec: PayloadCodec,
  options: CodecServerOptions = {},
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const allowed = new Set(options.allowedOrigins ?? []);
  return async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const operation = /\/(encode|decode)$/.exec(path)?.[1] as 'encode' | 'decode' | undefined;
    if (!operation) return false;
    const origin = request.headers.origin;
    const cors: Record<string, string> = {};
    if (origin && (allowed.has('*') || allowed.has(origin))) {
      cors['access-control-allow-origin'] = origin;
      cors['access-control-allow-credentials'] = 'true';
      cors['access-control-allow-methods'] = 'POST, OPTIONS';
      cors['access-control-allow-headers'] = 'X-Namespace, Content-Type, Authorization';
      cors['access-control-max-age'] = '600';
      cors.vary = 'Origin';
    }
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      response.writeHead(status, { 'content-type': 'application/json', ...cors, ...extra });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'OPTIONS') {
      response.writeHead(origin && !cors['access-control-allow-origin'] ? 403 : 204, cors);
      response.end();
      return true;
    }
    if (origin && !cors['access-control-allow-origin']) {
      reply(403, { message: `origin ${origin} may not use this codec server; add it to allowedOrigins` });
      return true;
    }
    if (request.method !== 'POST') {
      reply(405, { message: `use POST for /${operation}` }, { allow: 'POST, OPTIONS' });
      return true;
    }
    if (options.authorize && !(await options.authorize(request))) {
      reply(401, { message: 'not authorized to use this codec server' });
      return true;
    }
    let raw: Buffer;
    try {
      if (Number(request.headers['content-length'] ?? 0) > maxBodyBytes) {
        throw new PayloadCodecError(`request body over ${maxBodyBytes} bytes`);
      }
      raw = await readBody(request, maxBodyBytes);
    } catch (error) {
      // Answer first, then drop the connection: the rest of an oversized body is never read.
      response.once('finish', () => request.destroy());
      reply(
        413,
        { message: error instanceof Error ? error.message : String(error) },
        { connection: 'close' },
      );
      return true;
    }
    let payloads: Payload[];
    try {
      const body = JSON.parse(raw.toString('utf8')) as { payloads?: unknown };
      if (!Array.isArray(body.payloads)) throw new PayloadCodecError('the body needs a "payloads" array');
      payloads = (body.payloads as JsonPayload[]).map(payloadFromJson);
    } catch (error) {
      reply(400, { message: `bad request: ${error instanceof Error ? error.message : String(error)}` });
      return true;
    }
    try {
      const result = await codec[operation](payloads);
      reply(200, { payloads: result.map(payloadToJson) });
    } catch (error) {
      // The codec's own message names the key id, never key material or payload contents.
      reply(400, { message: error instanceof Error ? error.message : String(error) });
    }
    return true;
  };
}

function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.pause();
        reject(new PayloadCodecError(`request body over ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
