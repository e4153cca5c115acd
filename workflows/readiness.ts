// Waiting for a Deployment to be ready, as both workflows do: one heartbeating activity per slice of
// a few seconds, so a signal (an abort, a newer revision) never waits on a long activity, and the
// progress deadline is judged in the workflow, where it is durable.
import { readinessWaits } from './activities.ts';

const sliceMs = 5_000;

export interface ReadinessWait {
  namespace: string;
  name: string;
  readyThresholdPercent: number;
  /** Workflow time (ms) of the progress deadline. */
  deadline: number;
  pollMs: number;
}

/** One slice of waiting; the result says whether it is ready or the deadline has passed. */
export async function waitForReadySlice(input: ReadinessWait) {
  const readiness = await readinessWaits.waitForDeploymentReady({
    namespace: input.namespace,
    name: input.name,
    readyThresholdPercent: input.readyThresholdPercent,
    maxWaitMs: Math.max(0, Math.min(input.deadline - new Date().getTime(), sliceMs)),
    pollMs: input.pollMs,
  });
  const deadlinePassed = readiness.progressDeadlineExceeded || new Date().getTime() >= input.deadline;
  return { ...readiness, deadlinePassed };
}
