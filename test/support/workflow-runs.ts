// One rollout per test on the workflow-level environment: its own task queue and a fresh fake
// cluster, with helpers to wait for what the status query says.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery, type RolloutInput, type RolloutStatus } from '../../workflows/messages.ts';
import type { rolloutWorkflow } from '../../workflows/rollout.ts';
import type { CanaryOptions } from './canaries.ts';
import { FakeCluster, testCanary } from './fake-cluster.ts';
import { startFakeWorker } from './workflow-env.ts';

export interface FakeRun {
  cluster: FakeCluster;
  handle: WorkflowHandle<typeof rolloutWorkflow>;
  stop(): Promise<void>;
}

let sequence = 0;
const running = new Set<FakeRun>();

/** Stops the workers of rollouts a failed test left running, so the environment can be torn down. */
export async function stopFakeRollouts(): Promise<void> {
  await Promise.all([...running].map((run) => run.stop()));
}

export async function startFakeRollout(
  env: TestWorkflowEnvironment,
  options: CanaryOptions,
  setup: (cluster: FakeCluster) => void = () => {},
  input: Partial<RolloutInput> = {},
): Promise<FakeRun> {
  const cluster = new FakeCluster();
  setup(cluster);
  const taskQueue = `wf-${process.pid}-${sequence++}-${Date.now()}`;
  const worker = await startFakeWorker(env, taskQueue, cluster.activities());
  const handle = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue,
    workflowId: `${taskQueue}/rollout`,
    args: [
      {
        canary: testCanary(options),
        canaryUid: 'uid-1',
        revision: 'rev2',
        options: { readinessPollMs: 20 },
        ...input,
      },
    ],
  });
  let stopped: Promise<void> | undefined;
  const run: FakeRun = {
    cluster,
    handle,
    stop: () => {
      running.delete(run);
      stopped ??= worker.stop();
      return stopped;
    },
  };
  running.add(run);
  return run;
}

export async function finishedRun(run: FakeRun) {
  try {
    return await run.handle.result();
  } finally {
    await run.stop();
  }
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function waitForStatus(
  run: FakeRun,
  check: (status: RolloutStatus) => boolean,
  timeoutMs = 10_000,
): Promise<RolloutStatus> {
  let last: RolloutStatus | undefined;
  await waitFor(async () => {
    last = await run.handle.query(statusQuery);
    return check(last);
  }, timeoutMs);
  return last as RolloutStatus;
}
