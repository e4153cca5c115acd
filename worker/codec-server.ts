// The codec server: Temporal UI's "codec endpoint" and `temporal --codec-endpoint` send it the sealed
// payloads of a history and get them back readable. Whoever can call it reads every payload, so it
// listens on loopback unless told otherwise (reach it with `kubectl port-forward`), a non-loopback
// address needs a bearer token, and browsers may call it only from the origins given (Temporal UI's).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PayloadCodecError, codecServerHandler } from './payload-codec.ts';
import type { PayloadCodec } from '@temporalio/common';

export const defaultCodecPort = 8888;
export const defaultCodecAddress = '127.0.0.1';

export interface CodecServerSettings {
  port: number;
  address: string;
  /** Browser origins allowed to call it (Temporal UI's, e.g. `http://127.0.0.1:8233`). */
  allowedOrigins: readonly string[];
  /** `Authorization: Bearer <token>` required when set. */
  token?: string;
}

export interface CodecServer {
  /** `http://address:port`: the codec endpoint to give Temporal UI or the CLI. */
  url: string;
  close(): Promise<void>;
}

/**
 * Browser origins from a comma-separated list (`http://127.0.0.1:8233,https://temporal.example.com`),
 * or the first entry that is not an origin (scheme, host and port; no path).
 */
export function parseOrigins(text: string): { origins: string[]; invalid?: string } {
  const origins = text
    .split(',')
    .map((origin) => origin.trim().replace(/\/+$/, ''))
    .filter((origin) => origin !== '');
  const invalid = origins.find((origin) => origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin));
  return invalid === undefined ? { origins } : { origins, invalid };
}

/** True for addresses only this machine (or this pod) can reach. */
export function isLoopbackAddress(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/**
 * The bearer token from a file (a mounted Secret; wins) or `CUTOVER_CODEC_TOKEN`; undefined when
 * neither is set. A short token is refused: it would be guessable by whoever can reach the port.
 */
export function loadCodecToken(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  let token: string | undefined;
  let source = 'CUTOVER_CODEC_TOKEN';
  if (file) {
    source = `codec token file ${file}`;
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new PayloadCodecError(
        `${source} cannot be read (${error instanceof Error ? error.message : String(error)}); mount the Secret there or fix the path`,
      );
    }
  } else if (env.CUTOVER_CODEC_TOKEN) {
    token = env.CUTOVER_CODEC_TOKEN.trim();
  }
  if (token === undefined) return undefined;
  if (token.length < 16) {
    throw new PayloadCodecError(
      `${source}: the token has ${token.length} characters, at least 16 are needed; make one with \`openssl rand -hex 32\``,
    );
  }
  return token;
}

/** A bearer-token check that takes as long for a wrong token as for a right one. */
export function bearerTokenCheck(token: string): (request: IncomingMessage) => boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  const expected = digest(token);
  return (request) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1].trim()), expected);
  };
}

/** Checks that belong before listening: a reachable address without a token is refused. */
export function codecServerProblem(settings: CodecServerSettings): string | undefined {
  if (settings.token === undefined && !isLoopbackAddress(settings.address)) {
    return `the codec server would decrypt for anyone who reaches ${settings.address}:${settings.port}; listen on 127.0.0.1 (and port-forward), or require a bearer token (the worker's --codec-token-file, codec-server's --token-file, or CUTOVER_CODEC_TOKEN)`;
  }
  return undefined;
}

export async function startCodecServer(
  codec: PayloadCodec,
  settings: CodecServerSettings,
): Promise<CodecServer> {
  const problem = codecServerProblem(settings);
  if (problem) throw new PayloadCodecError(problem);
  const handle = codecServerHandler(codec, {
    allowedOrigins: settings.allowedOrigins,
    ...(settings.token === undefined ? {} : { authorize: bearerTokenCheck(settings.token) }),
  });
  const server = http.createServer((request, response) => {
    void handle(request, response)
      .then((handled) => {
        if (handled) return;
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'the codec server answers POST /encode and POST /decode' }));
      })
      .catch(() => {
        // The handler answers every codec error itself; this is a broken connection.
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
  });
  // A slow client must not hold a connection (and its buffered body) open for ever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = settings.address.includes(':') ? `[${settings.address}]` : settings.address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
