// One app under a fault: its own namespace with podinfo and a Canary, driven only through the
// Kubernetes API, and the real `cutover worker` process (its own task queue, watching only that
// namespace) that the test kills with SIGKILL and replaces. Observes what a user would: the Canary's
// status and events, the primary, the target and the apex Service.
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { endpoints, kube, podinfoDeployment, testNamespace } from '../../support/cluster.ts';
import { canaryObject, ensureCrds } from '../../support/canaries.ts';
import type { CanaryOptions } from '../../support/canaries.ts';
import { startWorkerProcess } from '../../support/worker-process.ts';
import type { WorkerProcess } from '../../support/worker-process.ts';
import {
  rolloutPolicyGroup,
  rolloutPolicyPlural,
  rolloutPolicyVersion,
} from '../../../canary/rollout-policy.ts';

export const appName = 'podinfo';

export interface CanaryEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
}

/** What the test sees of the rollout at one moment. */
export interface Snapshot {
  at: number;
  phase: string;
  iterations: number;
  failedChecks: number;
  lastAppliedSpec?: string;
  lastPromotedSpec?: string;
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  events: CanaryEvent[];
  targetReplicas: number;
  targetAvailable: number;
  primaryGeneration: number;
  primaryAvailable: number;
  apexSelector?: Record<string, string>;
}

export interface EndState {
  phase: string;
  /** The `--ui-message=` of the primary's template: which version it runs (undefined: the first). */
  primaryMessage?: string;
  targetReplicas: number;
  apexSelector?: Record<string, string>;
  /** Sum of the counts of "Promotion completed!" events. */
  promotionEvents: number;
  primaryGeneration: number;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const strategicPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface AppOptions {
  prefix: string;
  canary: CanaryOptions;
  labels?: Record<string, string>;
  /** A RolloutPolicy spec created in the namespace before the Canary. */
  policy?: Record<string, unknown>;
  /** Wait for `Initialized` (default true). */
  waitInitialized?: boolean;
  /** A second worker on the task queue from the start, as the chart's two replicas run. */
  standbyWorker?: boolean;
}

export class AppUnderTest {
  readonly namespace: string;
  readonly taskQueue: string;
  readonly workers: WorkerProcess[] = [];
  private readonly removeNamespace: () => Promise<void>;
  private readonly custom: k8s.CustomObjectsApi;

  private constructor(ns: { name: string; remove: () => Promise<void> }) {
    this.namespace = ns.name;
    this.removeNamespace = ns.remove;
    this.taskQueue = `faults-${ns.name}`;
    this.custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  }

  /** A namespace, podinfo v1, a worker, the Canary (and policy); waits for `Initialized`. */
  static async start(options: AppOptions): Promise<AppUnderTest> {
    await ensureCrds();
    const app = new AppUnderTest(await testNamespace(options.prefix));
    try {
      await kube().apps.createNamespacedDeployment({
        namespace: app.namespace,
        body: podinfoDeployment(appName, app.namespace, 1),
      });
      if (options.policy) await app.createPolicy('policy', options.policy);
      await app.startWorker();
      if (options.standbyWorker) await app.startWorker();
      const canary = canaryObject(appName, app.namespace, options.canary);
      if (options.labels) (canary.metadata as Record<string, unknown>).labels = options.labels;
      await app.createObject('flagger.app', 'v1beta1', 'canaries', canary);
      if (options.waitInitialized !== false)
        await app.waitUntil('Initialized', (s) => s.phase === 'Initialized', 90_000);
      return app;
    } catch (error) {
      await app.remove();
      throw error;
    }
  }

  async createObject(
    group: string,
    version: string,
    plural: string,
    body: Record<string, unknown>,
  ): Promise<void> {
    await this.custom.createNamespacedCustomObject({
      group,
      version,
      namespace: this.namespace,
      plural,
      body,
    });
  }

  async createPolicy(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.createObject(rolloutPolicyGroup, rolloutPolicyVersion, rolloutPolicyPlural, {
      apiVersion: `${rolloutPolicyGroup}/${rolloutPolicyVersion}`,
      kind: 'RolloutPolicy',
      metadata: { name },
      spec,
    });
  }

  /** Starts a `cutover worker` for this app; resolves when it is healthy (its start time in ms). */
  async startWorker(): Promise<number> {
    const began = Date.now();
    this.workers.push(await startWorkerProcess({ namespace: this.namespace, taskQueue: this.taskQueue }));
    return Date.now() - began;
  }

  /** SIGKILL of the newest worker: a crash, nothing flushed, no graceful shutdown. Returns its pid. */
  async killWorker(): Promise<number | undefined> {
    const newest = this.workers[this.workers.length - 1];
    await newest?.kill();
    return newest?.pid;
  }

  /** SIGKILL of every worker of the app. */
  async killAllWorkers(): Promise<void> {
    for (const w of this.workers) await w.kill();
  }

  /**
   * SIGKILL of the worker that holds the rollout now (with a standby running): the one running its
   * pending activity, else the one that took its last workflow task (its cache and sticky queue).
   * The newest worker when neither is known.
   */
  async killWorkerHoldingRollout(): Promise<number | undefined> {
    const identity = await this.holderIdentity().catch(() => undefined);
    const alive = this.workers.filter((w) => w.alive());
    const victim =
      alive.find((w) => identity !== undefined && identity.startsWith(`${w.pid}@`)) ?? alive.at(-1);
    await victim?.kill();
    return victim?.pid;
  }

  /**
   * Seconds from `killedAtMs` to the first workflow task or activity of this app's workflows started or
   * finished by another worker than `killedPid`: how long Temporal took to hand the work on (an upper
   * bound; undefined when nothing happened after the kill).
   */
  async handoverMs(killedAtMs: number, killedPid: number | undefined): Promise<number | undefined> {
    const { client } = await this.temporalClient();
    let first: number | undefined;
    for await (const execution of client.workflow.list({ query: `CutoverNamespace = '${this.namespace}'` })) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      for (const event of history.events ?? []) {
        const identity =
          event.workflowTaskStartedEventAttributes?.identity ??
          event.activityTaskStartedEventAttributes?.identity ??
          event.activityTaskCompletedEventAttributes?.identity ??
          event.activityTaskFailedEventAttributes?.identity;
        if (!identity || (killedPid !== undefined && identity.startsWith(`${killedPid}@`))) continue;
        const seconds = Number(event.eventTime?.seconds ?? 0);
        const at = seconds * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
        if (at > killedAtMs && (first === undefined || at < first)) first = at;
      }
    }
    return first === undefined ? undefined : first - killedAtMs;
  }

  private async holderIdentity(): Promise<string | undefined> {
    const { client } = await this.temporalClient();
    const query = `CutoverNamespace = '${this.namespace}' AND ExecutionStatus = 'Running'`;
    for await (const execution of client.workflow.list({ query })) {
      const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
      const described = await handle.describe();
      const pending = described.raw.pendingActivities?.find((a) => a.lastWorkerIdentity);
      if (pending?.lastWorkerIdentity) return pending.lastWorkerIdentity;
      const events = (await handle.fetchHistory()).events ?? [];
      for (let i = events.length - 1; i >= 0; i--) {
        const identity = events[i]?.workflowTaskStartedEventAttributes?.identity;
        if (identity) return identity;
      }
    }
    return undefined;
  }

  /** A new pod template (podinfo's `--ui-message`): a new revision for the watcher. */
  async release(message: string): Promise<number> {
    const container = podinfoDeployment(appName, this.namespace, 1, [`--ui-message=${message}`]).spec
      ?.template.spec?.containers[0];
    await kube().apps.patchNamespacedDeployment(
      {
        name: appName,
        namespace: this.namespace,
        body: { spec: { template: { spec: { containers: [container] } } } },
      },
      strategicPatch,
    );
    return Date.now();
  }

  async patchCanary(body: Record<string, unknown>): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      {
        group: 'flagger.app',
        version: 'v1beta1',
        namespace: this.namespace,
        plural: 'canaries',
        name: appName,
        body,
      },
      mergePatch,
    );
  }

  async events(involvedKind = 'Canary', name = appName): Promise<CanaryEvent[]> {
    const list = await kube().core.listNamespacedEvent({
      namespace: this.namespace,
      fieldSelector: `involvedObject.kind=${involvedKind},involvedObject.name=${name}`,
    });
    return list.items
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map((e) => ({
        type: e.type ?? '',
        reason: e.reason ?? '',
        message: e.message ?? '',
        count: e.count ?? e.series?.count ?? 1,
      }));
  }

  async snapshot(): Promise<Snapshot> {
    const { apps, core } = kube();
    const [canary, events, target, primary, apex] = await Promise.all([
      this.custom.getNamespacedCustomObject({
        group: 'flagger.app',
        version: 'v1beta1',
        namespace: this.namespace,
        plural: 'canaries',
        name: appName,
      }) as Promise<{ status?: Record<string, unknown> }>,
      this.events(),
      apps.readNamespacedDeployment({ name: appName, namespace: this.namespace }),
      apps
        .readNamespacedDeployment({ name: `${appName}-primary`, namespace: this.namespace })
        .catch(() => undefined),
      core.readNamespacedService({ name: appName, namespace: this.namespace }).catch(() => undefined),
    ]);
    const status = canary.status ?? {};
    return {
      at: Date.now(),
      phase: String(status.phase ?? ''),
      iterations: Number(status.iterations ?? 0),
      failedChecks: Number(status.failedChecks ?? 0),
      ...(typeof status.lastAppliedSpec === 'string' ? { lastAppliedSpec: status.lastAppliedSpec } : {}),
      ...(typeof status.lastPromotedSpec === 'string' ? { lastPromotedSpec: status.lastPromotedSpec } : {}),
      conditions: (status.conditions as Snapshot['conditions'] | undefined) ?? [],
      events,
      targetReplicas: target.spec?.replicas ?? 0,
      targetAvailable: target.status?.availableReplicas ?? 0,
      primaryGeneration: primary?.metadata?.generation ?? 0,
      primaryAvailable: primary?.status?.availableReplicas ?? 0,
      ...(apex?.spec?.selector ? { apexSelector: apex.spec.selector } : {}),
    };
  }

  /** Polls the snapshot every `everyMs` until `done` holds; throws with the last snapshot on timeout. */
  async waitUntil(
    what: string,
    done: (s: Snapshot) => boolean,
    timeoutMs: number,
    everyMs = 150,
  ): Promise<Snapshot> {
    const deadline = Date.now() + timeoutMs;
    let last: Snapshot | undefined;
    let lastError: unknown;
    while (Date.now() < deadline) {
      const snapshot = await this.snapshot().catch((error: unknown) => {
        lastError = error; // the API server paused or restarting: keep polling
        return undefined;
      });
      if (snapshot) {
        last = snapshot;
        if (done(snapshot)) return snapshot; // a throw from `done` ends the wait
      }
      await sleep(everyMs);
    }
    throw new Error(
      `${this.namespace}: timed out after ${timeoutMs} ms waiting for ${what}; last phase ${last?.phase}, ` +
        `events:\n${(last?.events ?? []).map((e) => `  ${e.type} ${e.message}`).join('\n')}` +
        (lastError instanceof Error ? `\nlast error: ${lastError.message}` : ''),
    );
  }

  async endState(): Promise<EndState> {
    const s = await this.snapshot();
    const primary = await kube().apps.readNamespacedDeployment({
      name: `${appName}-primary`,
      namespace: this.namespace,
    });
    return {
      phase: s.phase,
      primaryMessage: primary.spec?.template.spec?.containers[0]?.command
        ?.find((a) => a.startsWith('--ui-message='))
        ?.slice('--ui-message='.length),
      targetReplicas: s.targetReplicas,
      ...(s.apexSelector ? { apexSelector: s.apexSelector } : {}),
      promotionEvents: s.events
        .filter((e) => e.message.startsWith('Promotion completed!'))
        .reduce((sum, e) => sum + e.count, 0),
      primaryGeneration: s.primaryGeneration,
    };
  }

  private temporal?: Promise<{ connection: Connection; client: Client }>;

  private temporalClient(): Promise<{ connection: Connection; client: Client }> {
    this.temporal ??= Connection.connect({ address: endpoints.temporalAddress }).then((connection) => ({
      connection,
      client: new Client({ connection, namespace: endpoints.temporalNamespace }),
    }));
    return this.temporal;
  }

  /** The rollout workflows of this app still running in Temporal (the real end of a rollout). */
  async runningWorkflows(): Promise<number> {
    const { client } = await this.temporalClient();
    let running = 0;
    const query = `CutoverNamespace = '${this.namespace}' AND ExecutionStatus = 'Running'`;
    for await (const _ of client.workflow.list({ query })) running++;
    return running;
  }

  /** Waits until no workflow of this app runs (post-rollout hooks and all); returns when that was seen. */
  async waitForWorkflowsClosed(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const running = await this.runningWorkflows().catch(() => -1);
      if (running === 0) return Date.now();
      await sleep(150);
    }
    throw new Error(`${this.namespace}: rollout workflows still running after ${timeoutMs} ms`);
  }

  /** The last lines of every worker's log, for a failure's message. */
  logs(chars = 3000): string {
    return this.workers.map((w, i) => `--- worker ${i} ---\n${w.logs().slice(-chars)}`).join('\n');
  }

  async remove(): Promise<void> {
    for (const w of this.workers) await w.kill().catch(() => undefined);
    if (this.temporal) await (await this.temporal).connection.close().catch(() => undefined);
    await this.removeNamespace();
  }
}

export { sleep };
