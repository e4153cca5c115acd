import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusUnavailableError, queryPrometheus } from '../../../activities/prometheus.ts';
import { refusingUrl, startLocalServer, type LocalServer } from './local-http.ts';

// A fake Prometheus HTTP API on 127.0.0.1: answers /api/v1/query with the scripted reply and
// records what it was asked. The real Prometheus is covered by the integration tests.
type Reply =
  { status: number; json?: unknown; text?: string; headers?: Record<string, string> } | 'hang' | 'drip';

let server: LocalServer;
let address: string;
let reply: Reply;
let asked: { path: string; query: string | null; authorization?: string; tenant?: string }[] = [];

before(async () => {
  server = await startLocalServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    asked.push({
      path: url.pathname,
      query: url.searchParams.get('query'),
      authorization: req.headers.authorization,
      tenant: req.headers['x-scope-orgid'] as string | undefined,
    });
    if (reply === 'hang') return;
    if (reply === 'drip') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(timer));
      return;
    }
    const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
    res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers }).end(body);
  });
  address = server.url;
});

after(() => server.close());

beforeEach(() => {
  asked = [];
  reply = { status: 200, json: vector([]) };
});

function vector(values: string[]): unknown {
  return {
    status: 'success',
    data: {
      resultType: 'vector',
      result: values.map((value, i) => ({ metric: { pod: `p${i}` }, value: [1_700_000_000.5, value] })),
    },
  };
}

describe('queryPrometheus', () => {
  it('runs an instant query with whitespace collapsed and returns its value', async () => {
    reply = { status: 200, json: vector(['99.5']) };
    const result = await queryPrometheus({ address, query: 'sum(\n\trate(x[1m])\n)  * 100' });
    assert.deepEqual(result, { kind: 'value', value: 99.5 });
    assert.deepEqual(
      asked.map((a) => [a.path, a.query]),
      [['/api/v1/query', 'sum( rate(x[1m]) ) * 100']],
    );
  });

  it('keeps a path prefix of the address', async () => {
    reply = { status: 200, json: vector(['1']) };
    await queryPrometheus({ address: `${address}/prometheus/`, query: 'vector(1)' });
    assert.equal(asked[0]?.path, '/prometheus/api/v1/query');
  });

  it('reports an empty vector as no data', async () => {
    assert.deepEqual(await queryPrometheus({ address, query: 'x' }), {
      kind: 'no-data',
      reason: 'no values found',
    });
  });

  it('reports NaN and infinities as no data', async () => {
    for (const value of ['NaN', '+Inf', '-Inf']) {
      reply = { status: 200, json: vector([value]) };
      const result = await queryPrometheus({ address, query: 'x' });
      assert.equal(result.kind, 'no-data', value);
    }
  });

  it('takes the last series of several, as Flagger’s loop does', async () => {
    reply = { status: 200, json: vector(['1', '2', '3']) };
    assert.deepEqual(await queryPrometheus({ address, query: 'x' }), { kind: 'value', value: 3 });
  });

  it('accepts a scalar result', async () => {
    reply = { status: 200, json: { status: 'success', data: { resultType: 'scalar', result: [1, '42'] } } };
    assert.deepEqual(await queryPrometheus({ address, query: 'scalar(x)' }), { kind: 'value', value: 42 });
  });

  it('returns a query error with Prometheus’ text instead of throwing', async () => {
    reply = {
      status: 400,
      json: { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error' },
    };
    const result = await queryPrometheus({ address, query: 'sum(' });
    assert.deepEqual(result, {
      kind: 'error',
      message: 'HTTP 400: bad_data: invalid parameter "query": 1:5: parse error',
    });
  });

  it('returns a range vector as an error naming the result type', async () => {
    reply = { status: 200, json: { status: 'success', data: { resultType: 'matrix', result: [] } } };
    const result = await queryPrometheus({ address, query: 'x[1m]' });
    assert.equal(result.kind, 'error');
    assert.match(result.kind === 'error' ? result.message : '', /"matrix".*instant vector/);
  });

  it('throws on a 5xx so that Temporal retries', async () => {
    reply = { status: 503, json: { status: 'error', errorType: 'unavailable', error: 'TSDB not ready' } };
    await assert.rejects(queryPrometheus({ address, query: 'x' }), (error: unknown) => {
      assert.ok(error instanceof PrometheusUnavailableError);
      assert.match(error.message, /HTTP 503: unavailable: TSDB not ready/);
      return true;
    });
  });

  it('throws when Prometheus is unreachable', async () => {
    await assert.rejects(
      queryPrometheus({ address: await refusingUrl(), query: 'x' }),
      (error: unknown) => error instanceof PrometheusUnavailableError && /ECONNREFUSED/.test(error.message),
    );
  });

  it('throws when Prometheus does not answer within the timeout', async () => {
    reply = 'hang';
    await assert.rejects(
      queryPrometheus({ address, query: 'x', timeoutMs: 100 }),
      (error: unknown) => error instanceof PrometheusUnavailableError && /timed out/.test(error.message),
    );
  });

  it('sends a bearer token in preference to basic auth, and extra headers', async () => {
    reply = { status: 200, json: vector(['1']) };
    await queryPrometheus({
      address,
      query: 'x',
      bearerToken: 't0ken',
      basicAuth: { username: 'u', password: 'p' },
      headers: { 'X-Scope-OrgID': 'tenant-a' },
    });
    await queryPrometheus({ address, query: 'x', basicAuth: { username: 'u', password: 'p' } });
    assert.equal(asked[0]?.authorization, 'Bearer t0ken');
    assert.equal(asked[0]?.tenant, 'tenant-a');
    assert.equal(asked[1]?.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('returns an invalid address as an error without calling anything', async () => {
    const result = await queryPrometheus({ address: 'not a url', query: 'x' });
    assert.equal(result.kind, 'error');
  });
});

describe('queryPrometheus bounds', () => {
  it('fails the check on an answer over 1 MiB instead of reading it all', async () => {
    reply = {
      status: 200,
      text: `{"status":"success","data":{"resultType":"vector","result":[${'{"value":[1,"1"]},'.repeat(80_000)}]}}`,
    };
    const result = await queryPrometheus({ address, query: 'x' });
    assert.equal(result.kind, 'error');
    assert.match(result.kind === 'error' ? result.message : '', /more than 1 MiB.*single series/);
  });

  it('counts the whole exchange against the timeout, not only idle time', async () => {
    reply = 'drip';
    await assert.rejects(
      queryPrometheus({ address, query: 'x', timeoutMs: 200 }),
      (error: unknown) => error instanceof PrometheusUnavailableError && /timed out/.test(error.message),
    );
  });

  it('does not follow a redirect', async () => {
    reply = { status: 302, headers: { Location: 'http://127.0.0.1:1/api/v1/query' } };
    const result = await queryPrometheus({ address, query: 'x' });
    assert.equal(result.kind, 'error');
    assert.match(result.kind === 'error' ? result.message : '', /HTTP 302, a redirect to .*not followed/);
    assert.equal(asked.length, 1);
  });

  it('refuses a cloud-metadata address as a failed check, without calling it', async () => {
    const result = await queryPrometheus({ address: 'http://169.254.169.254/', query: 'x' });
    assert.equal(result.kind, 'error');
    assert.match(result.kind === 'error' ? result.message : '', /cloud-metadata/);
  });

  it('quotes at most 256 characters of an error body, without the credentials it echoes', async () => {
    reply = { status: 401, text: `bad token t0kenVALUE for user; ${'details '.repeat(200)}` };
    const result = await queryPrometheus({ address, query: 'x', bearerToken: 't0kenVALUE' });
    const message = result.kind === 'error' ? result.message : '';
    assert.ok(!message.includes('t0kenVALUE'), message);
    assert.match(message, /^HTTP 401: bad token \*\*\* for user;/);
    assert.ok(message.length <= 'HTTP 401: '.length + 257, `${message.length} characters`);
  });

  it('names an unreachable Prometheus without the password of its address', async () => {
    const refusing = (await refusingUrl()).replace('http://', 'http://admin:hunter22@');
    await assert.rejects(queryPrometheus({ address: refusing, query: 'x' }), (error: unknown) => {
      assert.ok(error instanceof PrometheusUnavailableError);
      assert.ok(!error.message.includes('hunter22'), error.message);
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });
});
