// A hook with no answer at all (an endpoint down) is said on the Canary with its error and what it
// means for the rollout, once per rollout and hook (a stable event key); a hook that answers "no"
// (any HTTP status) is the workflow's to word, as in Flagger.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReportProgressInput } from '../../../activities/canary-status.ts';
import type { RolloutContext, RolloutStepDeps } from '../../../activities/rollout/context.ts';
import { runHooksInOrder } from '../../../activities/rollout/hooks.ts';
import type { WebhookResult } from '../../../activities/webhooks.ts';
import type { ResolvedWebhook } from '../../../canary/validate.ts';
import { CanaryPhase } from '../../../canary/status.ts';

const context: RolloutContext = {
  canary: { name: 'podinfo', namespace: 'test', uid: 'uid-1', target: 'podinfo', service: 'podinfo' },
  revision: 'rev-1',
  phase: CanaryPhase.Waiting,
  eventHooks: [],
  alerts: [],
};
const gate: ResolvedWebhook = {
  name: 'confirm',
  type: 'confirm-rollout',
  url: 'http://127.0.0.1:9/approve',
  timeoutMs: 1000,
  retries: 0,
  metadata: {},
  disableTLS: false,
  muteAlert: false,
};

function deps(answer: WebhookResult): { deps: RolloutStepDeps; reports: ReportProgressInput[] } {
  const reports: ReportProgressInput[] = [];
  return {
    reports,
    deps: {
      callWebhook: () => Promise.resolve(answer),
      reportProgress: (input) => {
        reports.push(input);
        return Promise.resolve({ found: true, phaseChanged: false, eventsCreated: 1 });
      },
      checkMetric: () => Promise.reject(new Error('not used')),
      sendAlerts: () => Promise.reject(new Error('not used')),
      scaleDeployment: () => Promise.reject(new Error('not used')),
    },
  };
}

describe('a hook that cannot be reached', () => {
  it('is said on the Canary with its error and what the rollout does meanwhile', async () => {
    const down = deps({
      ok: false,
      error: 'POST http://127.0.0.1:9/approve failed: connect ECONNREFUSED 127.0.0.1:9',
      attempts: 1,
      durationMs: 3,
    });
    for (const key of ['step-1', 'step-2']) {
      const gateResult = await runHooksInOrder(down.deps, context, [gate], key);
      assert.equal(gateResult.failed?.name, 'confirm');
    }
    assert.equal(down.reports.length, 2);
    const [first, second] = down.reports.map((r) => r.events?.[0]);
    assert.equal(first?.type, 'Warning');
    assert.match(
      first?.message ?? '',
      /^Webhook confirm \(confirm-rollout\) cannot be reached: POST .* ECONNREFUSED/,
    );
    assert.match(first?.message ?? '', /the rollout waits, and the hook is asked again every interval/);
    assert.equal(first?.key, second?.key, 'one event per rollout and hook, however often the gate is asked');
  });

  it('says nothing when the hook answers, even "no"', async () => {
    const no = deps({
      ok: false,
      status: 403,
      body: 'not yet',
      error: 'HTTP 403',
      attempts: 1,
      durationMs: 3,
    });
    await runHooksInOrder(no.deps, context, [gate], 'step-1');
    assert.equal(no.reports.length, 0);
  });
});
