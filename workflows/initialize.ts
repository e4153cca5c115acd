// Initialization of a Canary: the `-primary` Deployment, the three Services, the primary HPA and
// config copies; wait for the primary; point the apex Service at it; scale the target to zero.
// A busy cluster slows initialization down and never fails it: past the progress deadline the
// Canary gets a Warning event that says what it waits for, and the wait goes on. A step the cluster
// keeps refusing (a full Service range, a missing HPA) is retried, and the Canary says why.
import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { primaryName } from '../canary/naming.ts';
import { CanaryPhase } from '../canary/status.ts';
import { kubernetes, refusedWrites } from './activities.ts';
import { waitForReadySlice } from './readiness.ts';
import type { InitializeInput, InitializeResult } from './messages.ts';
import { patches } from './patches.ts';
import { rolloutSearchAttributes } from './search-attributes.ts';

export async function initializeCanaryWorkflow(input: InitializeInput): Promise<InitializeResult> {
  const { canary, revision } = input;
  const ns = canary.namespace;
  const target = canary.target.name;
  const primary = primaryName(target);
  const info = workflowInfo();
  const ref = { name: canary.name, namespace: ns, uid: input.canaryUid };
  const objectsInput = { canary: ref, target, service: canary.service, autoscaler: canary.autoscaler?.name };
  const patient = patched(patches.patientInitialization);
  let eventSequence = 0;
  const key = (): string => `${info.workflowId}/${info.runId}/${eventSequence++}`;
  const warn = (message: string) =>
    kubernetes.reportProgress({ canary: ref, events: [{ key: key(), type: 'Warning', message }] });

  upsertSearchAttributes(rolloutSearchAttributes(canary, revision, CanaryPhase.Initializing));
  await kubernetes.reportProgress({
    canary: ref,
    status: { phase: CanaryPhase.Initializing, failedChecks: 0, iterations: 0, canaryWeight: 0 },
  });
  if (!patient) {
    await kubernetes.initializeCanaryObjects(objectsInput);
  } else {
    // A few quick tries, then say on the Canary what the cluster refuses, and keep trying.
    for (let round = 1; ; round++) {
      try {
        await refusedWrites.initializeCanaryObjects(objectsInput);
        break;
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        const cause = error.cause?.message ?? error.message;
        if (error.cause instanceof ApplicationFailure && error.cause.nonRetryable) {
          // The Canary or its target is wrong (InvalidTarget): no retry helps; say what to fix.
          const reason = `Initialization of ${canary.name}.${ns} failed: ${cause}`;
          await kubernetes.reportProgress({
            canary: ref,
            status: { phase: CanaryPhase.Failed, message: reason },
            events: [{ key: key(), type: 'Warning', message: reason }],
          });
          upsertSearchAttributes(rolloutSearchAttributes(canary, revision, CanaryPhase.Failed));
          return { outcome: 'failed', revision, reason };
        }
        if (round === 1 || round % 10 === 0) {
          await warn(
            `Initialization of ${canary.name}.${ns} is waiting for the cluster: ${cause} (retrying)`,
          );
        }
        await sleep(Math.min(30_000, 1_000 * round));
      }
    }
  }

  const pollMs = input.options?.readinessPollMs ?? 250;
  const deadlineMs = canary.progressDeadlineSeconds * 1_000;
  let deadline = new Date().getTime() + deadlineMs;
  for (;;) {
    const readiness = await waitForReadySlice({
      namespace: ns,
      name: primary,
      readyThresholdPercent: canary.analysis.primaryReadyThreshold,
      deadline,
      pollMs,
    });
    if (readiness.ready) break;
    if (!readiness.deadlinePassed) continue;
    if (patient) {
      // Slow is not failed: say so once per deadline period and keep waiting.
      await warn(
        `Initialization of ${canary.name}.${ns} is slow: ${primary}.${ns} not ready after ${canary.progressDeadlineSeconds}s: ${readiness.message} (still waiting)`,
      );
      deadline = new Date().getTime() + deadlineMs;
      continue;
    }
    const reason = `Initialization of ${canary.name}.${ns} failed: ${primary}.${ns} ${readiness.message}`;
    await kubernetes.reportProgress({
      canary: ref,
      status: { phase: CanaryPhase.Failed },
      events: [{ key: key(), type: 'Warning', message: reason }],
    });
    upsertSearchAttributes(rolloutSearchAttributes(canary, revision, CanaryPhase.Failed));
    return { outcome: 'failed', revision, reason };
  }

  // Only now is the apex Service pointed at the primary: traffic never meets an empty selector.
  await kubernetes.pointApexAtPrimary(objectsInput);
  await kubernetes.scaleDeployment({ namespace: ns, name: target, replicas: 0 });
  const message = `Initialization done! ${canary.name}.${ns}`;
  await kubernetes.reportProgress({
    canary: ref,
    status: {
      phase: CanaryPhase.Initialized,
      failedChecks: 0,
      iterations: 0,
      canaryWeight: 0,
      lastAppliedSpec: revision,
      lastPromotedSpec: revision,
    },
    events: [{ key: key(), type: 'Normal', message }],
  });
  upsertSearchAttributes(rolloutSearchAttributes(canary, revision, CanaryPhase.Initialized));
  return { outcome: 'initialized', revision, reason: message };
}
