import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  quoteForMessage,
  redactSecrets,
  redactText,
  redactUrl,
  trimText,
  urlOrigin,
} from '../../../canary/redact.ts';

describe('redactUrl', () => {
  it('replaces user:password@ with ***@ and keeps the rest', () => {
    assert.equal(
      redactUrl('https://admin:s3cr3t@prometheus.example.com:9090/prom/api/v1/query'),
      'https://***@prometheus.example.com:9090/prom/api/v1/query',
    );
    assert.equal(redactUrl('http://tokenonly@thanos:10902'), 'http://***@thanos:10902/');
  });

  it('blanks credential-looking query parameters, and no others', () => {
    assert.equal(
      redactUrl('https://chat.googleapis.com/v1/spaces/AAA/messages?key=AIzaSy123&token=abc%3D&threadKey=t1'),
      'https://chat.googleapis.com/v1/spaces/AAA/messages?key=***&token=***&threadKey=t1',
    );
    assert.equal(
      redactUrl('http://loadtester.test/gate?password=x&access_token=y&X-Amz-Signature=z&name=podinfo'),
      'http://loadtester.test/gate?password=***&access_token=***&X-Amz-Signature=***&name=podinfo',
    );
  });

  it('leaves a URL without credentials as it is', () => {
    assert.equal(redactUrl('http://127.0.0.1:9090/api/v1/query'), 'http://127.0.0.1:9090/api/v1/query');
  });

  it('falls back to the text redactor for something that is not a URL', () => {
    assert.equal(redactUrl('not a url password=hunter22'), 'not a url password=***');
  });
});

describe('urlOrigin', () => {
  it('keeps only scheme, host and port: a Slack hook path is its secret', () => {
    assert.equal(urlOrigin('https://hooks.slack.com/services/T000/B000/XXXXXXXX'), 'https://hooks.slack.com');
    assert.equal(urlOrigin('http://u:p@127.0.0.1:8080/x'), 'http://127.0.0.1:8080');
    assert.equal(urlOrigin('::'), '(an invalid URL)');
  });
});

describe('redactText', () => {
  it('removes credentials of URLs inside a message', () => {
    assert.equal(
      redactText('Prometheus at http://bob:pa55@10.0.0.1:9090/api/v1/query is unreachable: ECONNREFUSED'),
      'Prometheus at http://***@10.0.0.1:9090/api/v1/query is unreachable: ECONNREFUSED',
    );
  });

  it('removes Authorization values, bearer and basic credentials', () => {
    assert.equal(redactText('Authorization: Bearer eyJhbGciOi.J9x'), 'Authorization: Bearer ***');
    assert.equal(redactText('authorization=Basic dXNlcjpwYXNz'), 'authorization=Basic ***');
    assert.equal(redactText('{"Authorization":"Bearer abc123"}'), '{"Authorization":"Bearer ***"}');
    assert.equal(redactText('sent Bearer abcdef0123456789 upstream'), 'sent Bearer *** upstream');
    assert.equal(redactText('Basic authentication failed'), 'Basic authentication failed');
  });

  it('removes tokens and passwords in query strings, form bodies and JSON', () => {
    assert.equal(
      redactText('GET /api?query=up&token=abc123&x=1 failed'),
      'GET /api?query=up&token=***&x=1 failed',
    );
    assert.equal(redactText('username=bob&password=hunter2'), 'username=bob&password=***');
    assert.equal(
      redactText('{"user":"bob","password":"hunter2","api_key":"k-1"}'),
      '{"user":"bob","password":"***","api_key":"***"}',
    );
    assert.equal(redactText('client_secret: abc'), 'client_secret: ***');
  });

  it('leaves ordinary words that only end like a credential name', () => {
    const text = 'bypass=1 monkey=2 compass: north passed=true';
    assert.equal(redactText(text), text);
  });
});

describe('redactSecrets', () => {
  it('removes known values, also URL- and base64-encoded', () => {
    const secret = 'p@ss word';
    const text = `echo ${secret} ${encodeURIComponent(secret)} ${Buffer.from(secret).toString('base64')}`;
    assert.equal(redactSecrets(text, [secret, undefined]), 'echo *** *** ***');
  });

  it('ignores values too short to be a secret', () => {
    assert.equal(redactSecrets('a b c', ['a']), 'a b c');
  });
});

describe('trimText and quoteForMessage', () => {
  it('collapses whitespace and cuts at the limit with an ellipsis', () => {
    assert.equal(trimText('  a\n\n b  '), 'a b');
    assert.equal(trimText('x'.repeat(300)), `${'x'.repeat(256)}…`);
    assert.equal(trimText('abcdef', 3), 'abc…');
  });

  it('redacts before trimming, so a secret is never cut in half and left partly visible', () => {
    const body = `${'e'.repeat(250)} password=hunter2hunter2`;
    const quoted = quoteForMessage(body);
    assert.ok(!quoted.includes('hunter'), quoted);
    assert.ok(quoted.length <= 257);
    assert.equal(quoteForMessage('token is TOPSECRET1', { secrets: ['TOPSECRET1'] }), 'token is ***');
  });
});
