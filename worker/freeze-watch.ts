// The worker's side of RolloutFreezes: a watch on them (cluster-scoped) that does two things.
// - Tells the freeze's owner whether Cutover can read it: the `Ready` condition (with
//   `observedGeneration`) and, for a freeze that cannot be read, a Warning event. Idempotent as the
//   policies' verdicts are (worker/rollout-policies.ts): a condition that says the same is not written
//   again, and an event's name comes from what it says, so the status write's own watch event, a
//   second replica or a restart records nothing new.
// - Tells the rollouts it may cover that it changed: when a freeze is created, its spec changes or it
//   is deleted, the running rollouts of the namespaces its old or new namespaceSelector selects get
//   the `change-windows-changed` signal, so that a gate waiting on a timer looks again now (a freeze
//   lifted early opens it; one applied mid-rollout is met at the next gate anyway). Found with one
//   bounded list of namespaces and a visibility query by the CutoverNamespace search attribute.
//
// A watch is not durable: a freeze deleted while no worker ran is not announced, and waiting rollouts
// learn of it when their timer fires. A restart announces every freeze it lists, so a change that
// happened while no worker watched reaches the rollouts it covers.
import * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { formatProblems } from '../canary/problems.ts';
import {
  describeFreeze,
  rolloutFreezeApiVersion,
  rolloutFreezeGroup,
  rolloutFreezeKind,
  rolloutFreezePlural,
  rolloutFreezeVersion,
  validateRolloutFreeze,
} from '../canary/rollout-freeze.ts';
import { selectorMatches, type LabelSelector } from '../canary/rollout-policy.ts';
import { requestDeadline } from '../client/kubernetes-deadline.ts';
import { changeWindowsSignal } from '../workflows/steering-messages.ts';
import { namespaceSearchAttribute } from '../workflows/search-attributes.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { policyEventComponent, policyEventName, readyStatusPatch } from './rollout-policies.ts';
import type { InformerFactory } from './watcher.ts';

/** Events about cluster-scoped objects go to this namespace, as kubectl's recorder puts a Node's. */
export const clusterEventNamespace = 'default';
/** The most namespaces one change looks at: one bounded list; past it, every running rollout is told. */
export const maxNamespacesListed = 2000;
/** The most rollouts one change signals. */
export const maxSignalsPerChange = 1000;
/** Namespaces per visibility query (the IN list of CutoverNamespace). */
const namespacesPerQuery = 100;

export interface FreezeWatchLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface FreezeWatchOptions {
  kubeconfig: k8s.KubeConfig;
  client: Pick<Client, 'workflow'>;
  /** The worker's `--watch-namespace`: only rollouts there are told. */
  namespace?: string;
  log: FreezeWatchLogger;
  /** Deadline of each API call (default 10 s). */
  timeoutMs?: number;
  informerFactory?: InformerFactory;
  /** Called after a change was handled: its freeze's name and how many rollouts were told (tests). */
  onHandled?: (freeze: string, signalled: number) => void;
}

interface StoredFreeze extends k8s.KubernetesObject {
  spec?: unknown;
  status?: unknown;
}

/** What a change of one freeze still has to do, gathered until its turn in the queue. */
interface Pending {
  /** The freeze as last seen; undefined once deleted. */
  object?: StoredFreeze;
  /** Selectors whose namespaces' rollouts are told: the old and the new one of each change. */
  selectors: LabelSelector[];
  signal: boolean;
}

/** The visibility query for running rollouts, of some namespaces or (undefined) of all. */
export function runningRolloutsQuery(namespaces?: readonly string[]): string {
  const running = `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running'`;
  if (namespaces === undefined) return running;
  const list = namespaces.map((n) => `'${n.replace(/'/g, "\\'")}'`).join(', ');
  return `${running} AND ${namespaceSearchAttribute.name} IN (${list})`;
}

export class FreezeWatch {
  private readonly options: FreezeWatchOptions;
  private readonly timeoutMs: number;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;
  private readonly queue: KeyedQueue;
  /** Per freeze: what the last handled spec selected, to tell its namespaces when it changes. */
  private readonly known = new Map<string, { uid?: string; generation?: number; selector?: LabelSelector }>();
  private readonly pending = new Map<string, Pending>();
  private informer?: k8s.Informer<StoredFreeze>;
  private retry?: NodeJS.Timeout;
  private saidRefused = false;
  private stopped = false;

  constructor(options: FreezeWatchOptions) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.custom = options.kubeconfig.makeApiClient(k8s.CustomObjectsApi);
    this.core = options.kubeconfig.makeApiClient(k8s.CoreV1Api);
    this.queue = new KeyedQueue(
      (freeze, error) =>
        options.log.warn('could not handle a RolloutFreeze change; it is handled again at its next change', {
          freeze,
          error: error instanceof Error ? error.message : String(error),
        }),
      { concurrency: 4 },
    );
  }

  async start(): Promise<void> {
    const makeInformer: InformerFactory = this.options.informerFactory ?? k8s.makeInformer;
    const path = `/apis/${rolloutFreezeGroup}/${rolloutFreezeVersion}/${rolloutFreezePlural}`;
    const informer = makeInformer<StoredFreeze>(
      this.options.kubeconfig,
      path,
      async () =>
        (await this.custom.listClusterCustomObject({
          group: rolloutFreezeGroup,
          version: rolloutFreezeVersion,
          plural: rolloutFreezePlural,
        })) as k8s.KubernetesListObject<StoredFreeze>,
    );
    informer.on('add', (freeze) => this.onFreeze(freeze));
    informer.on('update', (freeze) => this.onFreeze(freeze));
    informer.on('delete', (freeze) => this.onFreezeDeleted(freeze));
    informer.on('error', (error: unknown) => this.restart(informer, error));
    this.informer = informer;
    try {
      await informer.start();
      this.options.log.info('RolloutFreeze watch started', { freezes: this.known.size });
    } catch (error) {
      // Never fatal to the worker: rollouts still run, and gates read freezes themselves.
      this.restart(informer, error);
    }
  }

  /**
   * A dropped watch restarts after a second. One the API server refuses (403: a Role-only install,
   * whose Role cannot grant a cluster-scoped resource; 404: the CRD is not installed) is said once
   * and tried again every minute, quietly.
   */
  private restart(informer: k8s.Informer<StoredFreeze>, error: unknown): void {
    if (this.stopped) return;
    const code = error instanceof k8s.ApiException ? error.code : undefined;
    const refused = code === 403 || code === 404;
    if (!refused) {
      this.options.log.warn('RolloutFreeze watch dropped; restarting', { error: String(error) });
    } else if (!this.saidRefused) {
      this.saidRefused = true;
      this.options.log.warn(
        code === 403
          ? 'the worker may not watch RolloutFreezes (cluster-scoped, so a Role cannot grant them): waiting rollouts are not told when a freeze changes; grant list and watch on rolloutfreezes.cutover.dev with a ClusterRole'
          : 'the RolloutFreeze CRD is not installed (kubectl apply -f deploy/crds/rolloutfreezes.cutover.dev.yaml); watching for it',
        { code },
      );
    }
    clearTimeout(this.retry);
    this.retry = setTimeout(
      () => void informer.start().catch((e: unknown) => this.restart(informer, e)),
      refused ? 60_000 : 1000,
    );
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer?.stop();
  }

  /** Resolves when every change seen so far has been handled (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private onFreeze(freeze: StoredFreeze): void {
    const name = freeze.metadata?.name ?? '';
    if (name === '') return;
    const before = this.known.get(name);
    const uid = freeze.metadata?.uid;
    const generation = freeze.metadata?.generation;
    const validation = validateRolloutFreeze(freeze);
    const selector = validation.ok ? validation.freeze.namespaceSelector : undefined;
    // Its own status writes change neither: they are answered with the (idempotent) report alone.
    const changed = before === undefined || before.uid !== uid || before.generation !== generation;
    this.known.set(name, { uid, generation, selector });
    const pending = this.pendingFor(name);
    pending.object = freeze;
    if (changed) {
      pending.signal = true;
      for (const s of [before?.selector, selector]) if (s !== undefined) pending.selectors.push(s);
    }
    void this.queue.enqueue(name, () => this.handle(name));
  }

  private onFreezeDeleted(freeze: StoredFreeze): void {
    const name = freeze.metadata?.name ?? '';
    if (name === '') return;
    const before = this.known.get(name);
    this.known.delete(name);
    const pending = this.pendingFor(name);
    delete pending.object;
    pending.signal = true;
    if (before?.selector !== undefined) pending.selectors.push(before.selector);
    void this.queue.enqueue(name, () => this.handle(name));
  }

  private pendingFor(name: string): Pending {
    let pending = this.pending.get(name);
    if (pending === undefined) {
      pending = { selectors: [], signal: false };
      this.pending.set(name, pending);
    }
    return pending;
  }

  private async handle(name: string): Promise<void> {
    const pending = this.pending.get(name);
    if (pending === undefined) return;
    this.pending.delete(name);
    if (pending.object !== undefined) await this.report(pending.object);
    let signalled = 0;
    if (pending.signal && pending.selectors.length > 0) {
      signalled = await this.signalCovered(name, pending.selectors);
    }
    this.options.onHandled?.(name, signalled);
  }

  /** The freeze's Ready condition, and a Warning event when it cannot be read. */
  private async report(freeze: StoredFreeze): Promise<void> {
    const name = freeze.metadata?.name ?? '';
    const uid = freeze.metadata?.uid ?? '';
    const generation = freeze.metadata?.generation;
    const validation = validateRolloutFreeze(freeze);
    const what = validation.ok
      ? { status: 'True' as const, reason: 'Resolved' as const, message: describeFreeze(validation.freeze) }
      : {
          status: 'False' as const,
          reason: 'Invalid' as const,
          message: `RolloutFreeze ${name} is ignored, so it freezes nothing: ${formatProblems(validation.problems)}`,
        };
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const patch = readyStatusPatch(freeze.status, generation, what, now);
    if (patch !== undefined) {
      await this.custom.patchClusterCustomObjectStatus(
        {
          group: rolloutFreezeGroup,
          version: rolloutFreezeVersion,
          plural: rolloutFreezePlural,
          name,
          body: { status: patch },
          fieldManager: policyEventComponent,
        },
        requestDeadline(this.timeoutMs, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
      );
    }
    if (validation.ok) return;
    const at = new Date();
    const body: k8s.CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: policyEventName({ name, uid }, `${what.reason}/${generation ?? 0}/${what.message}`),
        namespace: clusterEventNamespace,
      },
      involvedObject: { apiVersion: rolloutFreezeApiVersion, kind: rolloutFreezeKind, name, uid },
      reason: what.reason,
      message: what.message,
      type: 'Warning',
      source: { component: policyEventComponent },
      reportingComponent: policyEventComponent,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    };
    try {
      await this.core.createNamespacedEvent(
        { namespace: clusterEventNamespace, body },
        requestDeadline(this.timeoutMs),
      );
    } catch (error) {
      // The same message on the same generation was recorded already.
      if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
    }
  }

  /** Signals the running rollouts of the namespaces the selectors select; returns how many. */
  private async signalCovered(freeze: string, selectors: readonly LabelSelector[]): Promise<number> {
    const namespaces = await this.coveredNamespaces(selectors);
    const queries =
      namespaces === undefined
        ? [runningRolloutsQuery()]
        : chunks(namespaces, namespacesPerQuery).map((part) => runningRolloutsQuery(part));
    let signalled = 0;
    for (const query of queries) {
      for await (const run of this.options.client.workflow.list({ query })) {
        if (signalled >= maxSignalsPerChange) {
          this.options.log.warn(
            'a RolloutFreeze change covers more running rollouts than are signalled at once',
            {
              freeze,
              signalled,
            },
          );
          return signalled;
        }
        try {
          await this.options.client.workflow.getHandle(run.workflowId, run.runId).signal(changeWindowsSignal);
          signalled += 1;
        } catch (error) {
          // It ended between the list and the signal: nothing waits there any more.
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
      }
    }
    if (signalled > 0)
      this.options.log.info('told the rollouts a RolloutFreeze may cover', { freeze, signalled });
    return signalled;
  }

  /** The namespaces to tell, or undefined for every one (a selector of all, or too many to list). */
  private async coveredNamespaces(selectors: readonly LabelSelector[]): Promise<string[] | undefined> {
    const scope = this.options.namespace;
    const selectsAll = selectors.some(
      (s) => Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0,
    );
    if (selectsAll) return scope === undefined ? undefined : [scope];
    const list = await this.core.listNamespace(
      { limit: maxNamespacesListed },
      requestDeadline(this.timeoutMs),
    );
    if (list.metadata?._continue) return scope === undefined ? undefined : [scope];
    const names: string[] = [];
    for (const ns of list.items) {
      const name = ns.metadata?.name ?? '';
      const labels = { 'kubernetes.io/metadata.name': name, ...(ns.metadata?.labels ?? {}) };
      if (scope !== undefined && name !== scope) continue;
      if (selectors.some((s) => selectorMatches(s, labels))) names.push(name);
    }
    return names;
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
