// What every rollout-step activity needs to know about the rollout it acts for: which Canary, which
// revision, the phase it is in, and where its events and alerts go. The workflow sends it with each
// call, so the activities hold no state and any worker can run any step.
import type { CanaryPhase } from '../../canary/status.ts';
import type { ResolvedAlert, ResolvedWebhook } from '../../canary/validate.ts';
import type { CallWebhookInput, WebhookResult } from '../webhooks.ts';
import type { CanaryStatusActivities } from '../canary-status.ts';
import type { CheckMetricInput, CheckMetricResult } from '../metric-checks.ts';
import type { SendAlertsInput, SendAlertsResult } from '../notifications.ts';
import type { ScaleDeploymentInput } from '../kubernetes.ts';

export interface RolloutContext {
  canary: { name: string; namespace: string; uid: string; target: string; service: string };
  revision: string;
  /** The phase the Canary is in when the step starts (webhook payloads carry it). */
  phase: CanaryPhase;
  /** `event` webhooks: each event written is also POSTed to them. */
  eventHooks: ResolvedWebhook[];
  alerts: ResolvedAlert[];
}

/** The base activities the rollout steps are built from (late-bound, so the worker's wrappers apply). */
export interface RolloutStepDeps {
  reportProgress: CanaryStatusActivities['reportProgress'];
  callWebhook(input: CallWebhookInput): Promise<WebhookResult>;
  checkMetric(input: CheckMetricInput): Promise<CheckMetricResult>;
  sendAlerts(input: SendAlertsInput): Promise<SendAlertsResult>;
  scaleDeployment(input: ScaleDeploymentInput): Promise<{ replicas: number }>;
}
