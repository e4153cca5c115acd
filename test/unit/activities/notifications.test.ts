import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertPayload, alertWanted } from '../../../activities/notifications.ts';
import type { SendAlertsInput } from '../../../activities/notifications.ts';

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
