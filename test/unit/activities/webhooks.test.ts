import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { callWebhook, eventWebhookPayload, type CallWebhookInput } from '../../../activities/webhooks.ts';
import { refusingUrl, startLocalServer, type LocalServer } from './local-http.ts';

// A webhook receiver on 127.0.0.1 that answers each request with the next scripted reply.
type Reply = { status: number; body?: string } | 'hang' | 'drop';

let server: LocalServer;
let baseUrl: string;
let script: Reply[] = [];
let received: { method: string; contentType: string; body: unknown }[] = [];

before(async () => {
  server = await startLocalServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: JSON.parse(raw),
      });
      const reply = script.shift() ?? { status: 200 };
      if (reply === 'hang') return;
      if (reply === 'drop') return req.socket.destroy();
      res.writeHead(reply.status, { 'Content-Type': 'text/plain' }).end(reply.body ?? '');
    });
  });
  baseUrl = server.url;
});

after(() => server.close());

beforeEach(() => {
  script = [];
  received = [];
});

const payload = { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'abc123' };

function hook(overrides: Partial<CallWebhookInput> = {}): CallWebhookInput {
  return {
    url: `${baseUrl}/gate/check`,
    timeoutMs: 2000,
    retries: 0,
    retryBackoffMs: 5,
    payload,
    ...overrides,
  };
}

describe('callWebhook', () => {
  it('POSTs the Flagger JSON payload and passes on 200', async () => {
    script = [{ status: 200, body: '  Approved\n' }];
    const result = await callWebhook(
      hook({ payload: { ...payload, metadata: { type: 'cmd', cmd: 'hey' } } }),
    );
    assert.equal(result.ok, true);
    assert.equal(result.status, 200);
    assert.equal(result.body, 'Approved');
    assert.equal(result.attempts, 1);
    assert.deepEqual(received, [
      {
        method: 'POST',
        contentType: 'application/json',
        body: { ...payload, metadata: { type: 'cmd', cmd: 'hey' } },
      },
    ]);
  });

  it('passes on 202 and fails on 203, Flagger’s limit', async () => {
    script = [{ status: 202 }, { status: 203, body: 'non-authoritative' }];
    assert.equal((await callWebhook(hook())).ok, true);
    const result = await callWebhook(hook({ retries: 3 }));
    assert.equal(result.ok, false);
    assert.equal(result.attempts, 1, 'a 203 is not retried');
    assert.match(result.error ?? '', /HTTP 203: non-authoritative/);
  });

  it('does not retry a 403 and keeps the loadtester’s text in the error', async () => {
    script = [{ status: 403, body: 'Forbidden: gate is closed' }];
    const result = await callWebhook(hook({ retries: 3 }));
    assert.equal(result.ok, false);
    assert.equal(result.status, 403);
    assert.equal(result.attempts, 1);
    assert.equal(result.error, `POST ${baseUrl}/gate/check failed: HTTP 403: Forbidden: gate is closed`);
  });

  it('retries a 503 then succeeds', async () => {
    script = [{ status: 503, body: 'warming up' }, { status: 200 }];
    const result = await callWebhook(hook({ retries: 2 }));
    assert.equal(result.ok, true);
    assert.equal(result.attempts, 2);
    assert.equal(received.length, 2);
  });

  it('retries a 429 then succeeds', async () => {
    script = [{ status: 429 }, { status: 202 }];
    const result = await callWebhook(hook({ retries: 1 }));
    assert.deepEqual([result.ok, result.attempts, result.status], [true, 2, 202]);
  });

  it('gives up after its retries on repeated 500s, with the last status and body', async () => {
    script = [
      { status: 500, body: 'one' },
      { status: 500, body: 'two' },
      { status: 500, body: 'command hey failed: exit status 1' },
    ];
    const result = await callWebhook(hook({ retries: 2 }));
    assert.equal(result.ok, false);
    assert.equal(result.attempts, 3);
    assert.equal(result.status, 500);
    assert.match(result.error ?? '', /failed after 3 attempts: HTTP 500: command hey failed: exit status 1$/);
  });

  it('does not retry when retries is 0 (Flagger’s default)', async () => {
    script = [{ status: 500, body: 'boom' }, { status: 200 }];
    const result = await callWebhook(hook());
    assert.deepEqual([result.ok, result.attempts], [false, 1]);
  });

  it('fails a hook that does not answer within the timeout, then retries it', async () => {
    script = ['hang', { status: 200 }];
    const result = await callWebhook(hook({ timeoutMs: 150, retries: 1 }));
    assert.equal(result.ok, true);
    assert.equal(result.attempts, 2);

    script = ['hang'];
    const timedOut = await callWebhook(hook({ timeoutMs: 150 }));
    assert.equal(timedOut.ok, false);
    assert.equal(timedOut.status, undefined);
    assert.match(timedOut.error ?? '', /no answer within 150ms/);
  });

  it('retries a dropped connection', async () => {
    script = ['drop', { status: 200 }];
    const result = await callWebhook(hook({ retries: 1 }));
    assert.deepEqual([result.ok, result.attempts], [true, 2]);
  });

  it('reports a refused connection as a failed result, not an exception', async () => {
    const result = await callWebhook(hook({ url: `${await refusingUrl()}/`, retries: 1 }));
    assert.equal(result.ok, false);
    assert.equal(result.attempts, 2);
    assert.match(result.error ?? '', /ECONNREFUSED/);
  });

  it('bounds the body it keeps to 1 KiB', async () => {
    script = [{ status: 500, body: 'x'.repeat(100_000) }];
    const result = await callWebhook(hook());
    assert.ok((result.body ?? '').length <= 1025);
    assert.ok(result.body?.endsWith('…'));
  });

  it('rejects a URL that is not http(s) without calling anything', async () => {
    const result = await callWebhook(hook({ url: 'ftp://example/hook' }));
    assert.deepEqual([result.ok, result.attempts], [false, 0]);
    assert.match(result.error ?? '', /must be http or https/);
  });
});

describe('eventWebhookPayload', () => {
  it('adds the event message, type and a Unix-millisecond timestamp string', () => {
    assert.deepEqual(
      eventWebhookPayload({
        ...payload,
        eventMessage: 'Advance podinfo.test canary iteration 1/3',
        eventType: 'Normal',
        at: 1_700_000_000_123,
      }),
      {
        ...payload,
        eventMessage: 'Advance podinfo.test canary iteration 1/3',
        eventType: 'Normal',
        timestamp: '1700000000123',
      },
    );
  });
});
