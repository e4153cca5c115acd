import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { canaryEvents } from '../support/canaries.ts';
import { recordHistory } from '../support/histories.ts';
import { setupScenario } from '../support/scenario.ts';
import { startTestWorker } from '../support/worker.ts';
import type { TestWorker } from '../support/worker.ts';

let worker: TestWorker;

before(async () => {
  worker = await startTestWorker('can');
});
after(async () => {
  await worker.stop();
});

test('a long analysis continues as new to bound its history, and carries its progress across runs', async () => {
  const scenario = await setupScenario(worker, 'can', { interval: '200ms', iterations: 7, threshold: 2 });
  try {
    await scenario.changeTarget(['--ui-message=v2']);
    const handle = await scenario.startRollout({ continueAsNewAfterIterations: 3 });
    const result = await handle.result();
    await recordHistory('continue-as-new', handle);
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.iteration, 7);
    const runs = [];
    for await (const run of worker.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` }))
      runs.push(run);
    const continued = runs.filter((r) => r.status.name === 'CONTINUED_AS_NEW');
    assert.ok(continued.length >= 1, `runs: ${runs.map((r) => r.status.name).join(', ')}`);
    const first = worker.client.workflow.getHandle(handle.workflowId, continued.at(-1)?.runId);
    const events = (await first.fetchHistory()).events ?? [];
    assert.ok(
      events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes,
      'the first run continued as new',
    );
    assert.ok(events.length < 200, `the first run's history stays short (${events.length} events)`);
    const messages = (await canaryEvents(scenario.namespace, 'podinfo')).map((e) => e.message);
    for (let k = 1; k <= 7; k++) {
      assert.equal(
        messages.filter((m) => m === `Advance podinfo.${scenario.namespace} canary iteration ${k}/7`).length,
        1,
        `iteration ${k} advanced exactly once across runs`,
      );
    }
  } finally {
    await scenario.remove();
  }
});
