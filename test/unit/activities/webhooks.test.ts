import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledFailure, asyncLocalStorage, type Context } from '@temporalio/activity';
import {
  callWebhook,
  createWebhookActivities,
  eventWebhookPayload,
  type CallWebhookInput,
} from '../../../activities/webhooks.ts';
import { refusingUrl, startLocalServer, type LocalServer } from './local-http.ts';

// A webhook receiver on 127.0.0.1 that answers each request with the next scripted reply.
type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang' | 'drop' | 'huge';

let server: LocalServer;
let baseUrl: string;
let script: Reply[] = [];
let received: { method: string; contentType: string; body: unknown }[] = [];
/** The Idempotency-Key header of each request received. */
let keys: (string | undefined)[] = [];
/** Heartbeats of the fake activity context. */
let heartbeats = 0;

before(async () => {
  server = await startLocalServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      keys.push(req.headers['idempotency-key'] as string | undefined);
      received.push({
        method: req.method ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: JSON.parse(raw),
      });
      const reply = script.shift() ?? { status: 200 };
      if (reply === 'hang') return;
      if (reply === 'drop') return req.socket.destroy();
      if (reply === 'huge') {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        const chunk = 'e'.repeat(64 * 1024);
        const pump = (): void => {
          while (res.write(chunk));
          res.once('drain', pump);
        };
        res.on('close', () => res.removeAllListeners('drain'));
        return pump();
      }
      res.writeHead(reply.status, { 'Content-Type': 'text/plain', ...reply.headers }).end(reply.body ?? '');
    });
  });
  baseUrl = server.url;
});

after(() => server.close());

beforeEach(() => {
  script = [];
  received = [];
  keys = [];
  heartbeats = 0;
});

/** Runs `fn` as if inside an activity attempt: the activity context is what the key is derived from. */
function inActivity<T>(
  info: { workflowId: string; runId: string; activityId: string; attempt: number },
  fn: () => Promise<T>,
  cancellationSignal: AbortSignal = new AbortController().signal,
): Promise<T> {
  const context = {
    info: {
      activityId: info.activityId,
      attempt: info.attempt,
      workflowExecution: { workflowId: info.workflowId, runId: info.runId },
    },
    cancellationSignal,
    heartbeat: () => (heartbeats += 1),
  } as unknown as Context;
  return asyncLocalStorage.run(context, fn);
}

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

describe('callWebhook idempotency keys', () => {
  it('sends the given key on every attempt of a call', async () => {
    script = [{ status: 503 }, { status: 500 }, { status: 200 }];
    const result = await callWebhook(
      hook({ retries: 2, idempotencyKey: 'cutover/test/podinfo/abc/pre-rollout/acceptance' }),
    );
    assert.equal(result.ok, true);
    assert.deepEqual(keys, Array(3).fill('cutover/test/podinfo/abc/pre-rollout/acceptance'));
    assert.equal(result.idempotencyKey, 'cutover/test/podinfo/abc/pre-rollout/acceptance');
  });

  it('sends a key that is not header-safe as its SHA-256', async () => {
    await callWebhook(hook({ idempotencyKey: 'cutover/test/podinfo/é hook' }));
    assert.match(keys[0] ?? '', /^[0-9a-f]{64}$/);
  });

  it('derives the key from the activity: the same for a retried attempt, another for another call', async () => {
    const call = { workflowId: 'cutover/test/podinfo/rollout/abc', runId: 'run-1', activityId: '7' };
    await inActivity({ ...call, attempt: 1 }, () => callWebhook(hook()));
    await inActivity({ ...call, attempt: 2 }, () => callWebhook(hook())); // Temporal retried the activity
    await inActivity({ ...call, activityId: '8', attempt: 1 }, () => callWebhook(hook()));
    await inActivity({ ...call, runId: 'run-2', attempt: 1 }, () => callWebhook(hook()));
    assert.equal(keys.length, 4);
    assert.equal(keys[0], 'cutover/test/podinfo/rollout/abc/run-1/7');
    assert.equal(keys[1], keys[0], 'a retried attempt carries the same key');
    assert.notEqual(keys[2], keys[0], 'another activity carries another key');
    assert.notEqual(keys[3], keys[0], 'the same activity id in a later run is another call');
  });

  it('heartbeats while a slow hook is in flight, and stops when it ends', async () => {
    script = ['hang'];
    const call = { workflowId: 'w', runId: 'r', activityId: '1', attempt: 1 };
    const result = await inActivity(call, () => callWebhook(hook({ timeoutMs: 1300 })));
    assert.equal(result.ok, false);
    assert.equal(heartbeats, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(heartbeats, 1, 'no heartbeat after the activity returned');
  });

  it('ends a hook call at once when Temporal cancels the activity, as a cancellation', async () => {
    script = ['hang'];
    const cancel = new AbortController();
    // As the SDK does: the signal's reason is a CancelledFailure.
    setTimeout(() => cancel.abort(new CancelledFailure('CANCELLED')), 100);
    const call = { workflowId: 'w', runId: 'r', activityId: '1', attempt: 1 };
    const started = Date.now();
    await assert.rejects(
      inActivity(call, () => callWebhook(hook({ timeoutMs: 5000, retries: 3 })), cancel.signal),
      (error: unknown) => error instanceof CancelledFailure,
    );
    assert.ok(Date.now() - started < 1000);
  });

  it('gives each call outside an activity its own key', async () => {
    await callWebhook(hook());
    await callWebhook(hook());
    assert.equal(new Set(keys).size, 2);
  });
});

describe('callWebhook bounds', () => {
  it('reads at most 64 KiB of an endless answer and keeps 1 KiB', async () => {
    script = ['huge'];
    const result = await callWebhook(hook());
    assert.equal(result.ok, false);
    assert.equal(result.status, 500);
    assert.equal(result.body?.length, 1025);
    assert.ok((result.error ?? '').length < 400, 'the error quotes 256 characters of the body');
  });

  it('does not follow a redirect', async () => {
    script = [{ status: 302, headers: { Location: 'http://127.0.0.1:1/elsewhere' } }];
    const result = await callWebhook(hook({ retries: 2 }));
    assert.equal(result.ok, false);
    assert.equal(result.attempts, 1, 'a redirect is not retried');
    assert.match(
      result.error ?? '',
      /HTTP 302, a redirect to http:\/\/127\.0\.0\.1:1\/elsewhere; redirects are not followed/,
    );
  });

  it('refuses a cloud-metadata address without calling it', async () => {
    const result = await callWebhook(hook({ url: 'http://169.254.169.254/latest/meta-data/', retries: 2 }));
    assert.deepEqual([result.ok, result.attempts], [false, 1]);
    assert.match(result.error ?? '', /link-local or cloud-metadata address/);
  });

  it('keeps to the worker’s destination policy', async () => {
    const { callWebhook: denied } = createWebhookActivities({ outboundPolicy: { allow: ['10.0.0.0/8'] } });
    const result = await denied(hook());
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /not on the outbound allow list/);
    assert.equal(received.length, 0);
  });

  it('removes credentials from the URL and the answer it reports', async () => {
    script = [{ status: 401, body: 'bad credentials: password=hunter2 Authorization: Bearer abc.def' }];
    const result = await callWebhook(
      hook({ url: baseUrl.replace('http://', 'http://bob:pw1234@') + '/gate?token=t0p' }),
    );
    const error = result.error ?? '';
    for (const secret of ['pw1234', 't0p', 'hunter2', 'abc.def']) assert.ok(!error.includes(secret), error);
    assert.ok(!(result.body ?? '').includes('hunter2'));
    assert.match(error, /^POST http:\/\/\*\*\*@127\.0\.0\.1:\d+\/gate\?token=\*\*\* failed: HTTP 401/);
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
