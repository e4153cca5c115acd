// A step that keeps failing while Temporal retries it is said on its Canary: from the 3rd attempt, a
// `Stalled` condition and a Warning event naming the step and the error; its success afterwards says
// it recovered. Run in the SDK's mock activity context, with the Canary writes captured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  canaryOfInput,
  canaryOfWorkflowId,
  isReportedAttempt,
  withRetryReports,
} from '../../../activities/retry-reports.ts';
import type { RetryReportDeps } from '../../../activities/retry-reports.ts';
import type { ReportProgressInput } from '../../../activities/canary-status.ts';
import { statusPatch } from '../../../activities/canary-status.ts';

const canary = { name: 'podinfo', namespace: 'test', uid: '0123abcd-0000-4000-8000-000000000000' };
const workflowId = `cutover/test/podinfo/rollout/72eafe4142bebe9f/${canary.uid.slice(0, 8)}`;

function recorder(): { deps: RetryReportDeps; reports: ReportProgressInput[] } {
  const reports: ReportProgressInput[] = [];
  return {
    reports,
    deps: {
      reportProgress: (input) => {
        reports.push(input);
        return Promise.resolve({ found: true, phaseChanged: false, eventsCreated: 1 });
      },
      readCanary: ({ namespace, name }) =>
        Promise.resolve(
          namespace === canary.namespace && name === canary.name ? { metadata: { uid: canary.uid } } : null,
        ),
    },
  };
}

const refused = (): Promise<never> =>
  Promise.reject(
    new Error(
      'Could not scale Deployment test/podinfo to 1: the API server answered 500: etcdserver: timeout',
    ),
  );

/** The failures are the point: the SDK's warning per failed attempt is noise here. */
const quiet = new DefaultLogger('ERROR');

function attemptEnv(attempt: number): MockActivityEnvironment {
  return new MockActivityEnvironment(
    {
      attempt,
      activityType: 'scaleUpCanary',
      activityId: '7',
      workflowExecution: { workflowId, runId: 'run-1' },
    },
    { logger: quiet },
  );
}

describe('retry reports', () => {
  it('reads the Canary from the step input, or from the workflow id (rollout and init)', () => {
    assert.deepEqual(canaryOfInput({ context: { canary: { ...canary, target: 'podinfo' } } }), canary);
    assert.deepEqual(canaryOfInput({ canary }), canary);
    assert.equal(canaryOfInput({ namespace: 'test', target: 'podinfo' }), undefined);
    assert.deepEqual(canaryOfWorkflowId(workflowId), {
      namespace: 'test',
      name: 'podinfo',
      uidPrefix: '0123abcd',
    });
    assert.deepEqual(canaryOfWorkflowId(`cutover/test/podinfo/rollout/72eafe4142bebe9f/0123abcd/retry-1`), {
      namespace: 'test',
      name: 'podinfo',
      uidPrefix: '0123abcd',
    });
    assert.deepEqual(canaryOfWorkflowId(`cutover/test/podinfo/init/${canary.uid}`), {
      namespace: 'test',
      name: 'podinfo',
      uidPrefix: canary.uid,
    });
    assert.equal(canaryOfWorkflowId('someone-elses-workflow'), undefined);
  });

  it('says a step again at the 3rd, 10th, 30th and every 100th attempt', () => {
    const said = Array.from({ length: 300 }, (_, i) => i + 1).filter(isReportedAttempt);
    assert.deepEqual(said, [3, 10, 30, 100, 200, 300]);
  });

  it('is quiet for the first two failed attempts, then writes Stalled and a Warning naming the step and the cause', async () => {
    const { deps, reports } = recorder();
    const { scaleUpCanary } = withRetryReports({ scaleUpCanary: refused }, deps, []);
    for (const attempt of [1, 2]) await assert.rejects(attemptEnv(attempt).run(scaleUpCanary));
    assert.equal(reports.length, 0);
    await assert.rejects(attemptEnv(3).run(scaleUpCanary), /etcdserver: timeout/);
    assert.equal(reports.length, 1);
    const [report] = reports;
    assert.deepEqual(report?.canary, canary);
    assert.equal(report?.status?.condition?.type, 'Stalled');
    assert.equal(report?.status?.condition?.status, 'True');
    assert.equal(report?.status?.condition?.reason, 'StepRetrying');
    const event = report?.events?.[0];
    assert.equal(event?.type, 'Warning');
    assert.match(event?.message ?? '', /keeps retrying scaling up the canary Deployment \(scaleUpCanary\)/);
    assert.match(event?.message ?? '', /attempt 3 failed: Could not scale Deployment test\/podinfo to 1/);
  });

  it('says the recovery when the step succeeds after it was said, and keeps stable event keys', async () => {
    const { deps, reports } = recorder();
    const { scaleUpCanary } = withRetryReports({ scaleUpCanary: () => Promise.resolve('done') }, deps, []);
    assert.equal(await attemptEnv(2).run(scaleUpCanary), 'done');
    assert.equal(reports.length, 0, 'a success at attempt 2 follows no report');
    assert.equal(await attemptEnv(4).run(scaleUpCanary), 'done');
    assert.equal(await attemptEnv(4).run(scaleUpCanary), 'done');
    assert.equal(reports[0]?.status?.condition?.status, 'False');
    assert.equal(reports[0]?.status?.condition?.reason, 'Recovered');
    assert.equal(reports[0]?.events?.[0]?.type, 'Normal');
    assert.equal(
      reports[0]?.events?.[0]?.key,
      reports[1]?.events?.[0]?.key,
      'a retried report makes one event',
    );
  });

  it('leaves permanent failures, bounded steps and calls outside an activity alone', async () => {
    const { deps, reports } = recorder();
    const wrapped = withRetryReports(
      {
        scaleUpCanary: () => Promise.reject(ApplicationFailure.nonRetryable('no such Deployment')),
        callWebhook: refused,
      },
      deps,
      ['callWebhook'],
    );
    await assert.rejects(attemptEnv(3).run(wrapped.scaleUpCanary), /no such Deployment/);
    await assert.rejects(attemptEnv(3).run(wrapped.callWebhook));
    await assert.rejects(wrapped.scaleUpCanary());
    assert.equal(reports.length, 0);
  });

  it('never lets a failing report hide the step error or hold up its retry for long', async () => {
    const deps: RetryReportDeps = {
      reportProgress: () => new Promise(() => undefined), // the API server hangs
      readCanary: () => Promise.resolve({ metadata: { uid: canary.uid } }),
      waitMs: 50,
    };
    const { scaleUpCanary } = withRetryReports({ scaleUpCanary: refused }, deps, []);
    const began = Date.now();
    await assert.rejects(attemptEnv(3).run(scaleUpCanary), /etcdserver: timeout/);
    assert.ok(Date.now() - began < 2_000);
  });

  it('sets the Stalled condition beside Promoted, moving lastTransitionTime only when its status changes', () => {
    const promoted = { type: 'Promoted', status: 'Unknown', reason: 'Progressing', message: 'x' };
    const stalled = { type: 'Stalled', status: 'True' as const, reason: 'StepRetrying', message: 'retrying' };
    const first = statusPatch({ phase: 'Progressing', conditions: [promoted] }, { condition: stalled }, 't1');
    assert.deepEqual(first.conditions, [
      promoted,
      { ...stalled, lastUpdateTime: 't1', lastTransitionTime: 't1' },
    ]);
    const current = { phase: 'Progressing', conditions: first.conditions as (typeof promoted)[] };
    assert.deepEqual(statusPatch(current, { condition: stalled }, 't2'), {}, 'unchanged: no write');
    const again = statusPatch(current, { condition: { ...stalled, message: 'attempt 10' } }, 't3');
    assert.equal((again.conditions as { lastTransitionTime: string }[])[1]?.lastTransitionTime, 't1');
    const recovered = statusPatch(
      current,
      { condition: { ...stalled, status: 'False', reason: 'Recovered' } },
      't4',
    );
    assert.equal((recovered.conditions as { lastTransitionTime: string }[])[1]?.lastTransitionTime, 't4');
  });
});
