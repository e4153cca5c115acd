import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  alertPayload,
  alertWanted,
  createNotificationActivities,
  postAlert,
  rolloutUiLink,
  temporalUiLinkText,
} from '../../../activities/notifications.ts';
import type { SendAlertsInput, SendAlertsResult } from '../../../activities/notifications.ts';
import { localKubeconfig, notFound, startLocalServer, type LocalServer } from './local-http.ts';

const input: SendAlertsInput = {
  canary: { name: 'podinfo', namespace: 'test', target: 'podinfo' },
  alerts: [],
  severity: 'error',
  message: 'Canary podinfo.test failed: success rate 95.00% < 99%',
  phase: 'Failed',
  revision: '72eafe4142bebe9f',
};

test('an alert subscribed at a severity receives that severity and worse, as Flagger filters them', () => {
  assert.deepEqual(
    (['info', 'warn', 'error'] as const).map((message) => [
      alertWanted('info', message),
      alertWanted('warn', message),
      alertWanted('error', message),
    ]),
    [
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ],
  );
});

test('slack, rocket and discord get a Slack attachment with the message, the canary and its revision', () => {
  for (const type of ['slack', 'rocket', 'discord']) {
    const body = alertPayload(type, input, { channel: 'deploys', username: 'flagger' }) as {
      channel: string;
      username: string;
      attachments: {
        color: string;
        author_name: string;
        text: string;
        fields: { title: string; value: string }[];
      }[];
    };
    assert.equal(body.channel, 'deploys');
    assert.equal(body.username, 'flagger');
    assert.equal(body.attachments[0]?.author_name, 'podinfo.test');
    assert.equal(body.attachments[0]?.text, input.message);
    assert.equal(body.attachments[0]?.color, '#FF0000');
    assert.deepEqual(
      body.attachments[0]?.fields.map((f) => [f.title, f.value]),
      [
        ['Phase', 'Failed'],
        ['Revision', '72eafe4142bebe9f'],
        ['Target', 'Deployment/podinfo.test'],
      ],
    );
  }
});

test('msteams gets a MessageCard and gchat a card, both carrying the message', () => {
  const teams = alertPayload('msteams', input, {}) as {
    '@type': string;
    sections: { activityTitle: string }[];
  };
  assert.equal(teams['@type'], 'MessageCard');
  assert.equal(teams.sections[0]?.activityTitle, input.message);
  const chat = alertPayload('gchat', input, {}) as {
    cards: { sections: { widgets: { textParagraph?: { text: string } }[] }[] }[];
  };
  assert.equal(chat.cards[0]?.sections[0]?.widgets[0]?.textParagraph?.text, input.message);
});

const link =
  'https://temporal.example.com/namespaces/prod/workflows/cutover%2Ftest%2Fpodinfo%2Frollout%2F72eafe4142bebe9f/run-1';

test('the link to the rollout is its run in Temporal UI, with the workflow id encoded, only when the UI is known', () => {
  const run = {
    namespace: 'prod',
    workflowId: 'cutover/test/podinfo/rollout/72eafe4142bebe9f',
    runId: 'run-1',
  };
  assert.equal(rolloutUiLink('https://temporal.example.com/', run), link);
  assert.equal(rolloutUiLink(undefined, run), undefined);
  assert.equal(rolloutUiLink('', run), undefined);
  assert.equal(rolloutUiLink('https://temporal.example.com', undefined), undefined);
});

test('slack, rocket and discord link the rollout as the attachment title, Teams as an OpenUri action, Google Chat as a button', () => {
  for (const type of ['slack', 'rocket', 'discord']) {
    const body = alertPayload(type, input, {}, link) as {
      attachments: { title?: string; title_link?: string; text: string }[];
    };
    assert.equal(body.attachments[0]?.title, temporalUiLinkText);
    assert.equal(body.attachments[0]?.title_link, link);
    assert.equal(body.attachments[0]?.text, input.message);
  }
  const teams = alertPayload('msteams', input, {}, link) as {
    potentialAction?: { '@type': string; name: string; targets: { os: string; uri: string }[] }[];
  };
  assert.deepEqual(teams.potentialAction, [
    { '@type': 'OpenUri', name: temporalUiLinkText, targets: [{ os: 'default', uri: link }] },
  ]);
  const chat = alertPayload('gchat', input, {}, link) as {
    cards: {
      sections: {
        widgets: { buttons?: { textButton: { text: string; onClick: { openLink: { url: string } } } }[] }[];
      }[];
    }[];
  };
  const button = chat.cards[0]?.sections[0]?.widgets.at(-1)?.buttons?.[0]?.textButton;
  assert.deepEqual(button, { text: temporalUiLinkText, onClick: { openLink: { url: link } } });
});

test('without a Temporal UI address no provider gets a link', () => {
  for (const type of ['slack', 'rocket', 'discord', 'msteams', 'gchat']) {
    const text = JSON.stringify(alertPayload(type, input, {}));
    assert.ok(!text.includes('Temporal UI'), `${type}: ${text}`);
    assert.ok(!text.includes('title_link') && !text.includes('potentialAction'), `${type}: ${text}`);
  }
});

describe('postAlert', () => {
  let server: LocalServer;
  const asked: string[] = [];
  before(async () => {
    server = await startLocalServer((req, res) => {
      asked.push(req.url ?? '');
      if (req.url?.startsWith('/drip')) {
        res.writeHead(200);
        const timer = setInterval(() => res.write('.'), 20);
        res.on('close', () => clearInterval(timer));
        return;
      }
      if (req.url?.startsWith('/moved')) {
        res.writeHead(301, { Location: 'https://hooks.example.com/services/T0/B0/SECRETPATH' }).end();
        return;
      }
      // Echoes the secret path back, as some gateways do in their error pages.
      res
        .writeHead(404, { 'Content-Type': 'text/plain' })
        .end(`no such hook ${req.url ?? ''} ${'x'.repeat(2000)}`);
    });
  });
  after(() => server.close());

  it('names only the scheme and host of the hook, whose path is its secret, and quotes 256 characters', async () => {
    const address = `${server.url}/services/T000/B000/XXXXSECRET`;
    await assert.rejects(postAlert(address, { text: 'hi' }), (error: Error) => {
      assert.ok(!error.message.includes('XXXXSECRET'), error.message);
      assert.match(error.message, /^POST http:\/\/127\.0\.0\.1:\d+\/… failed: HTTP 404: no such hook \*\*\*/);
      assert.ok(error.message.length < 400, `${error.message.length} characters`);
      return true;
    });
  });

  it('gives up on a chat system that drips its answer within the total deadline', async () => {
    await assert.rejects(
      postAlert(`${server.url}/drip`, {}, { timeoutMs: 200 }),
      /no complete answer within 200ms/,
    );
  });

  it('does not follow a redirect, and does not say where it pointed', async () => {
    await assert.rejects(postAlert(`${server.url}/moved`, {}), (error: Error) => {
      assert.match(error.message, /HTTP 301, a redirect; redirects are not followed/);
      assert.ok(!error.message.includes('SECRETPATH'), error.message);
      return true;
    });
    assert.equal(asked.filter((p) => p.startsWith('/moved')).length, 1);
  });

  it('refuses a link-local address, and any address outside the allow list', async () => {
    await assert.rejects(postAlert('http://169.254.169.254/hook', {}), /link-local or cloud-metadata/);
    await assert.rejects(
      postAlert(`${server.url}/hook`, {}, { policy: { allow: ['hooks.slack.com'] } }),
      /not on the outbound allow list/,
    );
  });
});

describe('sendAlerts', () => {
  let api: LocalServer;
  let chat: LocalServer;
  const posted: string[] = [];
  const bodies: string[] = [];
  before(async () => {
    chat = await startLocalServer((req, res) => {
      posted.push(req.url ?? '');
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      // Answered once the whole body is in, so a test reads it as soon as sendAlerts returns.
      req.on('end', () => {
        bodies.push(raw);
        res
          .writeHead(req.url?.includes('broken') ? 500 : 200)
          .end(req.url?.includes('broken') ? 'oops' : 'ok');
      });
    });
    api = await startLocalServer((req, res) => {
      const json = (body: unknown) =>
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      const provider = (name: string, spec: Record<string, unknown>) =>
        json({ apiVersion: 'flagger.app/v1beta1', kind: 'AlertProvider', metadata: { name }, spec });
      switch (req.url) {
        case '/apis/flagger.app/v1beta1/namespaces/test/alertproviders/from-secret':
          return provider('from-secret', { type: 'slack', secretRef: { name: 'chat-hook' } });
        case '/apis/flagger.app/v1beta1/namespaces/test/alertproviders/broken':
          return provider('broken', { type: 'slack', address: `${chat.url}/services/broken/SECRETPATH` });
        case '/apis/flagger.app/v1beta1/namespaces/test/alertproviders/no-secret':
          return provider('no-secret', { type: 'slack', secretRef: { name: 'missing' } });
        case '/api/v1/namespaces/test/secrets/chat-hook':
          return json({
            apiVersion: 'v1',
            kind: 'Secret',
            data: { address: Buffer.from(`${chat.url}/services/T0/B0/XYZ`).toString('base64') },
          });
        default:
          return notFound(res);
      }
    });
  });
  after(() => {
    api.close();
    chat.close();
  });

  it('delivers through a Secret address and reports each failure with its cause and fix', async () => {
    const { sendAlerts } = createNotificationActivities({ kubeconfig: localKubeconfig(api) });
    const alert = (name: string) => ({
      name,
      severity: 'info' as const,
      providerRef: { name, namespace: 'test' },
    });
    const result = await sendAlerts({
      ...input,
      alerts: [alert('from-secret'), alert('broken'), alert('no-secret'), alert('absent')],
    });
    assert.deepEqual(result.sent, ['from-secret']);
    assert.deepEqual(posted, ['/services/T0/B0/XYZ', '/services/broken/SECRETPATH']);
    const errors = Object.fromEntries(result.failed.map((f) => [f.alert, f.error]));
    assert.match(errors.broken ?? '', /^POST http:\/\/127\.0\.0\.1:\d+\/… failed: HTTP 500: oops$/);
    assert.match(
      errors['no-secret'] ?? '',
      /Secret test\/missing of AlertProvider test\/no-secret not found/,
    );
    assert.match(errors.absent ?? '', /AlertProvider test\/absent not found: create it/);
  });

  it('links each alert to the run of the workflow that sends it, read from the activity context', async () => {
    const { sendAlerts } = createNotificationActivities({
      kubeconfig: localKubeconfig(api),
      temporalUiUrl: 'https://temporal.example.com',
    });
    const alerts = [
      {
        name: 'from-secret',
        severity: 'info' as const,
        providerRef: { name: 'from-secret', namespace: 'test' },
      },
    ];
    bodies.length = 0;
    const env = new MockActivityEnvironment({
      namespace: 'prod',
      workflowExecution: { workflowId: 'cutover/test/podinfo/rollout/72eafe4142bebe9f', runId: 'run-1' },
    });
    const result: SendAlertsResult = await env.run(sendAlerts, { ...input, alerts });
    assert.deepEqual(result.failed, []);
    const sent = JSON.parse(bodies[0] ?? '{}') as { attachments: { title_link?: string }[] };
    assert.equal(sent.attachments[0]?.title_link, link);

    // Outside an activity, a rollout named in the input is linked; with neither, none is.
    bodies.length = 0;
    await sendAlerts({ ...input, alerts, rollout: { namespace: 'default', workflowId: 'w/1' } });
    await sendAlerts({ ...input, alerts });
    const [named, none] = bodies.map((b) => JSON.parse(b) as { attachments: { title_link?: string }[] });
    assert.equal(
      named?.attachments[0]?.title_link,
      'https://temporal.example.com/namespaces/default/workflows/w%2F1',
    );
    assert.equal(none?.attachments[0]?.title_link, undefined);
  });
});
