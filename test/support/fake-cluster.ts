// The activity boundary of a rollout, in memory: what the rollout wrote to the Canary (status and
// events), the Deployments it scaled, the hooks and metrics it asked, with answers a test chooses.
// The rollout-step activities (activities/rollout/) are the real ones, built on these fakes, so a
// workflow test covers the tick's logic too.
import type { CallWebhookInput, WebhookResult } from '../../activities/webhooks.ts';
import type { CheckMetricInput, CheckMetricResult } from '../../activities/metric-checks.ts';
import type { ReportProgressInput, ReportProgressResult } from '../../activities/canary-status.ts';
import { createRolloutStepActivities } from '../../activities/rollout/index.ts';
import type { SendAlertsInput } from '../../activities/notifications.ts';
import type { ChangeWindowInput, ChangeWindowVerdict } from '../../canary/change-control.ts';
import { validateCanary } from '../../canary/validate.ts';
import { rolloutCanary, type RolloutCanary } from '../../workflows/messages.ts';
import { canaryObject, type CanaryOptions } from './canaries.ts';

export type HookAnswer = (call: number, input: CallWebhookInput) => boolean;
export type MetricAnswer = (
  call: number,
) => { passed: boolean; value?: number; message?: string; inconclusive?: string } | 'unreachable';

export class FakeCluster {
  readonly events: { type: string; message: string; key: string }[] = [];
  status: Record<string, unknown> = {};
  readonly scales: { name: string; replicas: number }[] = [];
  readonly hookCalls: CallWebhookInput[] = [];
  readonly alerts: SendAlertsInput[] = [];
  readonly promotions: string[] = [];
  hookAnswers = new Map<string, HookAnswer>();
  metricAnswers = new Map<string, MetricAnswer>();
  /** Deployment name → calls until it is ready (0: ready at once; Infinity: never). */
  readyAfter = new Map<string, number>();
  canaryExists = true;
  /** When set, every alert fails to be delivered with this error. */
  alertError: string | undefined;
  /** Which pods the apex Service selects, and every flip made (switch mode). */
  apex: 'primary' | 'green' = 'primary';
  readonly flips: string[] = [];
  /** What the change-control gate finds, call by call (default: open). */
  changeWindow: (call: number, input: ChangeWindowInput) => ChangeWindowVerdict = () => ({ open: true });
  readonly changeWindowCalls: ChangeWindowInput[] = [];
  /** Makes `initializeCanaryObjects` throw this many times first. */
  refuseInitialization = 0;
  private readonly counts = new Map<string, number>();

  private count(key: string): number {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }

  messages(): string[] {
    return this.events.map((e) => e.message);
  }

  /** How many times the metric was queried. */
  metricCalls(name: string): number {
    return this.counts.get(`metric/${name}`) ?? 0;
  }

  hookCallsOf(name: string): CallWebhookInput[] {
    return this.hookCalls.filter((c) => c.url.endsWith(`/${name}`));
  }

  activities() {
    const base = {
      reportProgress: async (input: ReportProgressInput): Promise<ReportProgressResult> => {
        if (!this.canaryExists) return { found: false, phaseChanged: false, eventsCreated: 0 };
        const phaseChanged = input.status?.phase !== undefined && input.status.phase !== this.status.phase;
        if (input.status) this.status = { ...this.status, ...input.status };
        let eventsCreated = 0;
        for (const event of input.events ?? []) {
          if (this.events.some((e) => e.key === event.key)) continue;
          this.events.push(event);
          eventsCreated++;
        }
        return { found: true, phaseChanged, eventsCreated };
      },
      reportInvalidCanary: async () => ({ found: true, phaseChanged: true, eventsCreated: 1 }),
      callWebhook: async (input: CallWebhookInput): Promise<WebhookResult> => {
        this.hookCalls.push(input);
        const name = input.url.split('/').pop() ?? '';
        const answer = this.hookAnswers.get(name);
        const ok = answer ? answer(this.count(`hook/${name}`), input) : true;
        return {
          ok,
          status: ok ? 200 : 403,
          attempts: 1,
          durationMs: 1,
          ...(ok ? {} : { error: `${name} said no` }),
        };
      },
      checkMetric: async (input: CheckMetricInput): Promise<CheckMetricResult> => {
        const answer = this.metricAnswers.get(input.metric.name);
        const verdict = answer
          ? answer(this.count(`metric/${input.metric.name}`))
          : { passed: true, value: 100 };
        if (verdict === 'unreachable') throw new Error('Prometheus unavailable');
        return { name: input.metric.name, message: verdict.message ?? `${input.metric.name} ok`, ...verdict };
      },
      sendAlerts: async (input: SendAlertsInput) => {
        this.alerts.push(input);
        const error = this.alertError;
        if (error) return { sent: [], failed: input.alerts.map((a) => ({ alert: a.name, error })) };
        return { sent: input.alerts.map((a) => a.name), failed: [] };
      },
      scaleDeployment: async (input: { name: string; replicas: number }) => {
        this.scales.push({ name: input.name, replicas: input.replicas });
        return { replicas: input.replicas };
      },
      scaleUpCanary: async (input: { target: string }) => {
        this.scales.push({ name: input.target, replicas: 1 });
        return { replicas: 1 };
      },
      waitForDeploymentReady: async (input: { name: string; maxWaitMs: number }) => {
        const after = this.readyAfter.get(input.name) ?? 0;
        const ready = this.count(`ready/${input.name}`) > after;
        if (!ready) await new Promise((resolve) => setTimeout(resolve, Math.min(input.maxWaitMs, 50)));
        return {
          ready,
          progressDeadlineExceeded: false,
          message: ready ? 'ready' : `Waiting for deployment ${input.name} rollout to finish`,
          replicas: 1,
          availableReplicas: ready ? 1 : 0,
        };
      },
      promoteCanary: async (input: { revision: string }) => {
        this.promotions.push(input.revision);
        return { revision: input.revision, matchesExpected: true, trackedConfigs: {} };
      },
      initializeCanaryObjects: async () => {
        if (this.refuseInitialization > 0) {
          this.refuseInitialization--;
          throw new Error('failed to allocate a serviceIP: range is full');
        }
        return {
          primary: 'podinfo-primary',
          primaryCreated: true,
          services: { primary: '', canary: '' },
          configs: [],
          selectorLabel: 'app',
        };
      },
      pointApexAtPrimary: async () => ({ service: 'podinfo', takenOver: false }),
      switchApex: async (input: { to: 'primary' | 'green' }) => {
        const changed = this.apex !== input.to;
        if (changed) this.flips.push(input.to);
        this.apex = input.to;
        return { selector: { app: input.to === 'green' ? 'podinfo' : 'podinfo-primary' }, changed };
      },
      waitForWorkflowClosed: async () => ({ closed: true }),
      checkChangeWindow: async (input: ChangeWindowInput): Promise<ChangeWindowVerdict> => {
        this.changeWindowCalls.push(input);
        return this.changeWindow(this.count('change-window'), input);
      },
    };
    return Object.assign(
      base,
      createRolloutStepActivities(() => base),
    );
  }
}

/** A validated Canary for workflow tests: hooks point at `http://hooks.test/<name>` (never dialled). */
export function testCanary(options: CanaryOptions = {}): RolloutCanary {
  const object = canaryObject('podinfo', 'test', {
    interval: '200ms',
    iterations: 3,
    threshold: 2,
    ...options,
  });
  const validation = validateCanary(
    { ...object, metadata: { name: 'podinfo', namespace: 'test', uid: 'uid-1' } },
    { minInterval: '50ms' },
  );
  if (!validation.ok) throw new Error(`test Canary is invalid: ${JSON.stringify(validation.problems)}`);
  return rolloutCanary(validation.canary);
}

export function hook(
  name: string,
  type: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { name, type, url: `http://hooks.test/${name}`, timeout: '1s', ...extra };
}
