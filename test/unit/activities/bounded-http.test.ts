// The bounded HTTP client against real HTTP servers on 127.0.0.1: a server that drips its answer, one
// that never stops sending, a gzip bomb, redirects. Denied destinations are refused before any
// connection, so these tests never send anything off the loopback interface.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import {
  OutboundCallError,
  boundedRequest,
  compilePolicy,
  invalidPolicyEntries,
} from '../../../activities/bounded-http.ts';
import type { BoundedRequest } from '../../../activities/bounded-http.ts';
import { startLocalServer, type LocalServer } from './local-http.ts';

let server: LocalServer;
let other: LocalServer;
/** Paths the main server was asked for, and when each request's socket closed. */
let asked: string[] = [];
let closed: { path: string; at: number }[] = [];
let otherAsked: string[] = [];
let bytesSent = 0;

before(async () => {
  server = await startLocalServer((req, res) => {
    const path = req.url ?? '/';
    asked.push(path);
    req.socket.once('close', () => closed.push({ path, at: performance.now() }));
    if (path === '/drip') {
      // Headers at once, then one byte every 50 ms, forever: an idle timeout never fires.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const timer = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (path === '/hang') return; // never answers
    if (path === '/huge') {
      // Sends as fast as the client reads until the client goes away (at most 64 MiB).
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = (): void => {
        while (bytesSent < 64 * 1024 * 1024) {
          bytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (path === '/gzip-bomb') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
      res.end(zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024, 0)));
      return;
    }
    if (path === '/redirect-away') {
      res.writeHead(302, { Location: `${other.url}/elsewhere` }).end();
      return;
    }
    if (path === '/redirect-here') {
      res.writeHead(302, { Location: '/final?token=abc' }).end();
      return;
    }
    if (path.startsWith('/final')) {
      res.writeHead(200).end('final answer');
      return;
    }
    if (path === '/error') {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('boom');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Seen': 'yes' }).end('hello');
  });
  other = await startLocalServer((req, res) => {
    otherAsked.push(req.url ?? '/');
    res.writeHead(200).end('elsewhere');
  });
});

after(() => {
  server.close();
  other.close();
});

beforeEach(() => {
  asked = [];
  closed = [];
  otherAsked = [];
  bytesSent = 0;
});

function get(
  path: string,
  overrides: Partial<BoundedRequest> = {},
): Promise<Awaited<ReturnType<typeof boundedRequest>>> {
  return boundedRequest({
    method: 'GET',
    url: `${server.url}${path}`,
    timeoutMs: 2000,
    maxResponseBytes: 1024,
    overflow: 'error',
    ...overrides,
  });
}

async function failure(call: Promise<unknown>): Promise<OutboundCallError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof OutboundCallError, `an OutboundCallError, got ${String(error)}`);
    return error;
  }
  assert.fail('the call succeeded');
}

/** Waits until the server saw the socket of a request to `path` close. */
async function socketClosed(path: string, withinMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < withinMs) {
    const seen = closed.find((c) => c.path === path);
    if (seen) return seen.at;
    await sleep(10);
  }
  assert.fail(`the socket of ${path} was still open after ${withinMs}ms`);
}

describe('boundedRequest', () => {
  it('returns the status, headers and body of an answer', async () => {
    const response = await get('/');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'hello');
    assert.equal(response.headers['x-seen'], 'yes');
    assert.equal(response.truncated, false);
    const failed = await get('/error');
    assert.equal(failed.status, 500, 'an HTTP error status is an answer; the caller decides');
  });

  it('gives up on a server that drips its body within the TOTAL deadline, and closes the connection', async () => {
    const started = performance.now();
    const error = await failure(get('/drip', { timeoutMs: 400, maxResponseBytes: 1024 * 1024 }));
    const elapsed = performance.now() - started;
    assert.equal(error.kind, 'timeout');
    assert.equal(error.retryable, true);
    assert.match(error.message, /no complete answer within 400ms/);
    assert.ok(elapsed >= 380 && elapsed < 1500, `gave up after ${Math.round(elapsed)}ms`);
    const closedAt = await socketClosed('/drip', 1000);
    assert.ok(closedAt - started < 1500, 'the server saw the connection closed right after the deadline');
  });

  it('gives up on a server that never answers, and closes the connection', async () => {
    const error = await failure(get('/hang', { timeoutMs: 200 }));
    assert.equal(error.kind, 'timeout');
    await socketClosed('/hang', 1000);
  });

  it('stops reading a huge body at the cap and fails the call (overflow: error)', async () => {
    const error = await failure(get('/huge', { maxResponseBytes: 1024 * 1024 }));
    assert.equal(error.kind, 'too-large');
    assert.equal(error.retryable, false);
    assert.match(error.message, /more than 1 MiB/);
    await socketClosed('/huge', 1000);
    assert.ok(bytesSent < 16 * 1024 * 1024, `the server could send only ${bytesSent} bytes, not 64 MiB`);
  });

  it('keeps the first bytes of a huge body (overflow: truncate)', async () => {
    const response = await get('/huge', { maxResponseBytes: 64 * 1024, overflow: 'truncate' });
    assert.equal(response.truncated, true);
    assert.equal(response.body.length, 64 * 1024);
    await socketClosed('/huge', 1000);
  });

  it('caps the decoded body, so a gzip bomb is cut as well', async () => {
    const error = await failure(get('/gzip-bomb', { maxResponseBytes: 1024 * 1024 }));
    assert.equal(error.kind, 'too-large');
  });

  it('does not follow a redirect, and says where it pointed without its credentials', async () => {
    const error = await failure(get('/redirect-here'));
    assert.equal(error.kind, 'redirect');
    assert.match(
      error.message,
      /answered HTTP 302, a redirect to http:\/\/127\.0\.0\.1:\d+\/final\?token=\*\*\*/,
    );
    assert.deepEqual(asked, ['/redirect-here'], 'the redirect target was not asked');
  });

  it('follows a redirect to the same host only when the policy allows it', async () => {
    const response = await get('/redirect-here', { policy: { redirects: 'same-host' } });
    assert.equal(response.body, 'final answer');
    assert.deepEqual(asked, ['/redirect-here', '/final?token=abc']);

    const error = await failure(get('/redirect-away', { policy: { redirects: 'same-host' } }));
    assert.equal(error.kind, 'redirect');
    assert.match(error.message, /only redirects to the same host are followed/);
    assert.deepEqual(otherAsked, [], 'the other host was never called');
  });

  it('refuses link-local and cloud-metadata destinations by default, before connecting', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.10.1:8080/',
      'http://[fe80::1]/',
      'http://[fd00:ec2::254]/',
      'http://[::ffff:169.254.169.254]/',
      'http://2852039166/', // 169.254.169.254 written as a number
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://METADATA.google.internal./',
    ]) {
      const started = performance.now();
      const error = await failure(get('', { url }));
      assert.equal(error.kind, 'denied', url);
      assert.equal(error.retryable, false);
      assert.match(error.message, /link-local or cloud-metadata address/, url);
      assert.ok(performance.now() - started < 100, `${url} was refused without a connection attempt`);
    }
  });

  it('applies a deny list to the addresses a name resolves to, at connect time', async () => {
    const url = server.url.replace('127.0.0.1', 'localhost');
    const error = await failure(get('/', { url, policy: { deny: ['127.0.0.0/8', '::1'] } }));
    assert.equal(error.kind, 'denied');
    assert.match(error.message, /localhost \((127\.0\.0\.1|::1)\) is on the outbound deny list/);
    assert.deepEqual(asked, []);
  });

  it('with an allow list, calls only the destinations it names', async () => {
    assert.equal((await get('/', { policy: { allow: ['127.0.0.1'] } })).body, 'hello');
    assert.equal((await get('/', { policy: { allow: ['127.0.0.0/8'] } })).body, 'hello');
    const url = server.url.replace('127.0.0.1', 'localhost');
    assert.equal((await get('/', { url, policy: { allow: ['localhost'] } })).body, 'hello');
    const error = await failure(get('/', { policy: { allow: ['10.0.0.0/8', '*.svc.cluster.local'] } }));
    assert.equal(error.kind, 'denied');
    assert.match(error.message, /127\.0\.0\.1 is not on the outbound allow list/);
  });

  it('aborts when the caller’s signal fires (an activity Temporal cancelled)', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(get('/hang', { timeoutMs: 5000, signal: controller.signal }));
    assert.equal(error.kind, 'cancelled');
    await socketClosed('/hang', 1000);
  });

  it('refuses what is not an http(s) URL, without the credentials in the message', async () => {
    const error = await failure(get('', { url: 'ftp://bob:secret@files.example.com/' }));
    assert.equal(error.kind, 'invalid-url');
    assert.ok(!error.message.includes('secret'), error.message);
  });

  it('names a refused connection as retryable', async () => {
    const error = await failure(get('', { url: 'http://127.0.0.1:1/' }));
    assert.equal(error.kind, 'network');
    assert.equal(error.retryable, true);
    assert.match(error.message, /ECONNREFUSED/);
  });
});

describe('the destination policy', () => {
  it('lets an explicit allow entry open a default denial, and an explicit deny win over both', () => {
    const opened = compilePolicy({ allow: ['169.254.169.254'] });
    assert.equal(opened.checkHost('169.254.169.254'), undefined);
    assert.match(opened.checkHost('169.254.1.1') ?? '', /link-local/);
    const both = compilePolicy({ allow: ['10.0.0.0/8'], deny: ['10.1.0.0/16'] });
    assert.equal(both.checkHost('10.2.3.4'), undefined);
    assert.match(both.checkHost('10.1.2.3') ?? '', /deny list/);
    assert.equal(compilePolicy({}).checkHost('prometheus.monitoring'), undefined);
    assert.equal(
      compilePolicy({ allow: ['*.svc.cluster.local'] }).checkHost('prom.mon.svc.cluster.local'),
      undefined,
    );
  });

  it('reports the entries a configuration cannot use', () => {
    assert.deepEqual(
      invalidPolicyEntries([
        '10.0.0.0/8',
        'fd00::/8',
        'prometheus.monitoring',
        '*.svc',
        '10.0.0.0/33',
        'a b',
        'x/y',
      ]),
      ['10.0.0.0/33', 'a b', 'x/y'],
    );
  });
});
