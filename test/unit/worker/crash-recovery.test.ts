// The workflows the worker starts carry a shorter workflow task timeout (a crash mid-task costs
// 5 s, not the SDK's 10 s), unless the caller chose one; the worker's options bound the rest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowStartInput, WorkflowStartOutput } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import {
  crashRecoveryWorkerOptions,
  workflowTaskTimeoutInterceptor,
  workflowTaskTimeoutMs,
} from '../../../worker/crash-recovery.ts';

function startInput(options: Partial<WorkflowStartInput['options']> = {}): WorkflowStartInput {
  return {
    workflowType: 'rolloutWorkflow',
    headers: {},
    options: { workflowId: 'cutover/test/podinfo/rollout/1/2', taskQueue: 'cutover', args: [], ...options },
  };
}

async function sentOptions(input: WorkflowStartInput): Promise<WorkflowStartInput['options']> {
  const interceptor = workflowTaskTimeoutInterceptor();
  let seen: WorkflowStartInput | undefined;
  const next = (i: WorkflowStartInput): Promise<WorkflowStartOutput> => {
    seen = i;
    return Promise.resolve({ runId: 'r', eagerlyStarted: false } as WorkflowStartOutput);
  };
  await interceptor.startWithDetails?.(input, next);
  assert.ok(seen, 'the start went on');
  return seen.options;
}

describe('crash recovery', () => {
  it('sets a 5 s workflow task timeout on the workflows the worker starts', async () => {
    const options = await sentOptions(startInput());
    assert.equal(workflowTaskTimeoutMs, 5_000);
    assert.equal(Number(options.workflowTaskTimeout?.seconds), 5);
    assert.equal(options.workflowId, 'cutover/test/podinfo/rollout/1/2', 'the rest as given');
  });

  it('keeps a workflow task timeout the caller chose', async () => {
    const options = await sentOptions(startInput({ workflowTaskTimeout: msToTs('20s') }));
    assert.equal(Number(options.workflowTaskTimeout?.seconds), 20);
  });

  it('moves sticky tasks of a dead worker on after 3 s and sends heartbeats at least every second', () => {
    assert.equal(crashRecoveryWorkerOptions.stickyQueueScheduleToStartTimeout, 3_000);
    assert.equal(crashRecoveryWorkerOptions.maxHeartbeatThrottleInterval, 1_000);
  });
});
