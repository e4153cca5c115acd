// Is a Deployment rolled out? Judged from its status the way `kubectl rollout status` judges it, with
// Flagger's ready threshold: a percentage of the updated replicas that must be available.
import type { V1Deployment } from '@kubernetes/client-node';

export interface DeploymentReadiness {
  ready: boolean;
  /** What the rollout waits for, in `kubectl rollout status` words. */
  message: string;
  /** The Deployment reports `Progressing` with reason `ProgressDeadlineExceeded`: it will not get there. */
  progressDeadlineExceeded: boolean;
}

export function deploymentReadiness(
  deployment: V1Deployment,
  readyThresholdPercent = 100,
): DeploymentReadiness {
  const name = `${deployment.metadata?.name ?? ''}.${deployment.metadata?.namespace ?? ''}`;
  const status = deployment.status ?? {};
  const generation = deployment.metadata?.generation ?? 0;
  const notReady = (message: string, progressDeadlineExceeded = false): DeploymentReadiness => ({
    ready: false,
    message,
    progressDeadlineExceeded,
  });
  if ((status.observedGeneration ?? 0) < generation) {
    return notReady(`Waiting for deployment ${name} spec update to be observed`);
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return notReady(`Deployment ${name} exceeded its progress deadline`, true);
  }
  const replicas = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < replicas) {
    return notReady(
      `Waiting for deployment ${name} rollout to finish: ${updated} out of ${replicas} new replicas have been updated`,
    );
  }
  if (total > updated) {
    return notReady(
      `Waiting for deployment ${name} rollout to finish: ${total - updated} old replicas are pending termination`,
    );
  }
  const needed = Math.ceil((updated * readyThresholdPercent) / 100);
  if (available < needed) {
    return notReady(
      `Waiting for deployment ${name} rollout to finish: ${available} of ${updated} (${readyThresholdPercent}% ready threshold: ${needed}) updated replicas are available`,
    );
  }
  return {
    ready: true,
    message: `deployment ${name} successfully rolled out`,
    progressDeadlineExceeded: false,
  };
}
