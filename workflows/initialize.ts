// Initialization of a Canary: the `-primary` Deployment, the three Services, the primary HPA and
// config copies; wait for the primary; point the apex Service at it; scale the target to zero.
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { primaryName } from '../canary/naming.ts';
import { CanaryPhase } from '../canary/status.ts';
import { kubernetes } from './activities.ts';
import { waitForReadySlice } from './readiness.ts';
import type { InitializeInput, InitializeResult } from './messages.ts';
import { rolloutSearchAttributes } from './search-attributes.ts';

export async function initializeCanaryWorkflow(input: InitializeInput): Promise<InitializeResult> {
  const { canary, revision } = input;
  const ns = canary.namespace;
  const target = canary.target.name;
  const primary = primaryName(target);
  const info = workflowInfo();
  const ref = { name: canary.name, namespace: ns, uid: input.canaryUid };
  const objectsInput = { canary: ref, target, service: canary.service, autoscaler: canary.autoscaler?.name };
  let eventSequence = 0;
  const key = (): string => `${info.workflowId}/${info.runId}/${eventSequence++}`;

  upsertSearchAttributes(rolloutSearchAttributes(canary, revision, CanaryPhase.Initializing));
  await kubernetes.reportProgress({
    canary: ref,
    status: { phase: CanaryPhase.Initializing, failedChecks: 0, iterations: 0, canaryWeight: 0 },
  });
  await kubernetes.initializeCanaryObjects(objectsInput);

  const pollMs = input.options?.readinessPollMs ?? 250;
  const deadline = new Date().getTime() + canary.progressDeadlineSeconds * 1_000;
  for (;;) {
    const readiness = await waitForReadySlice({
      namespace: ns,
      name: primary,
      readyThresholdPercent: canary.analysis.primaryReadyThreshold,
      deadline,
      pollMs,
    });
    if (readiness.ready) break;
    if (readiness.deadlinePassed) {
      const reason = `Initialization of ${canary.name}.${ns} failed: ${primary}.${ns} ${readiness.message}`;
      await kubernetes.reportProgress({
        canary: ref,
        status: { phase: CanaryPhase.Failed },
        events: [{ key: key(), type: 'Warning', message: reason }],
      });
      upsertSearchAttributes(rolloutSearchAttributes(canary, revision, CanaryPhase.Failed));
      return { outcome: 'failed', revision, reason };
    }
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
