import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { historySteps, keyFields, renderSteps } from '../../../client/history-steps.ts';
import type { HistoryEvent } from '../../../client/history-steps.ts';

process.env.TZ = 'UTC';

const payloads = (value: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(value)] });
const at = (seconds: number) => ({ seconds: 1_740_830_400 + seconds, nanos: 0 });

test('key fields: scalars as key=value, nested objects by name, lists by message or name', () => {
  assert.equal(
    keyFields({
      canary: { name: 'podinfo', namespace: 'test' },
      metric: { name: 'request-success-rate', thresholdRange: { min: 99 } },
      status: { phase: 'Progressing', iterations: 2 },
      events: [{ type: 'Normal', message: 'Advance podinfo.test canary iteration 2/4' }],
      noDataPolicy: undefined,
      retries: 0,
    }),
    'canary=podinfo metric=request-success-rate status={phase=Progressing iterations=2} ' +
      'events=["Advance podinfo.test canary iteration 2/4"] retries=0',
  );
  assert.equal(keyFields({ message: 'two words' }), 'message="two words"');
  assert.equal(keyFields(undefined), '-');
});

test('the steps of a rollout: start, activities with results and attempts, timers, signals, phase, end', () => {
  const events = [
    {
      eventId: 1,
      eventTime: at(0),
      workflowExecutionStartedEventAttributes: {
        workflowType: { name: 'rolloutWorkflow' },
        input: payloads({ canary: { name: 'podinfo', namespace: 'test' }, revision: 'abc' }),
      },
    },
    {
      eventId: 5,
      eventTime: at(1),
      upsertWorkflowSearchAttributesEventAttributes: {
        searchAttributes: {
          indexedFields: { CutoverPhase: defaultPayloadConverter.toPayload('Progressing') },
        },
      },
    },
    {
      eventId: 6,
      eventTime: at(1),
      activityTaskScheduledEventAttributes: {
        activityType: { name: 'checkMetric' },
        input: payloads({ metric: { name: 'request-success-rate' } }),
      },
    },
    { eventId: 7, activityTaskStartedEventAttributes: { scheduledEventId: 6, attempt: 2 } },
    {
      eventId: 8,
      eventTime: at(2),
      activityTaskCompletedEventAttributes: {
        scheduledEventId: 6,
        result: payloads({ passed: true, value: 99.5 }),
      },
    },
    {
      eventId: 10,
      eventTime: at(2),
      timerStartedEventAttributes: { timerId: '1', startToFireTimeout: { seconds: 1, nanos: 0 } },
    },
    {
      eventId: 11,
      eventTime: at(3),
      workflowExecutionSignaledEventAttributes: {
        signalName: 'abort',
        input: payloads({ by: 'bob', reason: 'error budget' }),
        identity: 'bob',
      },
    },
    { eventId: 12, timerCanceledEventAttributes: { timerId: '1' } },
    {
      eventId: 20,
      eventTime: at(4),
      workflowExecutionCompletedEventAttributes: {
        result: payloads({ outcome: 'rolled-back', reason: 'aborted by bob' }),
      },
    },
    // Numbers where the server sends protobuf Longs: the steps must read both.
  ] as unknown as HistoryEvent[];
  const steps = historySteps(events);
  assert.deepEqual(
    steps.map((s) => [s.kind, s.what, s.input, s.result, s.attempts]),
    [
      ['workflow', 'started rolloutWorkflow', 'canary=test/podinfo revision=abc', undefined, undefined],
      ['phase', 'Progressing', undefined, undefined, undefined],
      ['activity', 'checkMetric', 'metric=request-success-rate', 'passed=true value=99.5', 2],
      ['timer', '1s', undefined, 'cut short', undefined],
      ['signal', 'abort', 'abort by bob: error budget', 'sent by client bob', undefined],
      ['workflow', 'completed', undefined, 'outcome=rolled-back reason="aborted by bob"', undefined],
    ],
  );
  assert.match(
    renderSteps(steps),
    /^12:00:01\.000 {2}activity {3}checkMetric {2}metric=request-success-rate\n {14}→ passed=true value=99\.5 \(attempt 2\)$/m,
  );
});

test('engine v2: local-activity markers are steps with their activity and result', async () => {
  const { historyFromJSON } = await import('@temporalio/common/lib/proto-utils.js');
  const { readFileSync } = await import('node:fs');
  const history = historyFromJSON(
    JSON.parse(readFileSync(new URL('../../replay/histories/v2/promotion.json', import.meta.url), 'utf8')),
  );
  const steps = historySteps(history.events ?? []);
  const ticks = steps.filter((s) => s.what === 'runAnalysisTick');
  assert.ok(ticks.length >= 2, steps.map((s) => s.what).join(', '));
  assert.match(ticks[0]?.result ?? '', /metrics=/);
});
