// The RolloutAction controller: an informer on RolloutActions (cutover.dev), and for each new one (no
// status.phase) the steering it asks for, as the user the Kubernetes API server authenticated. It
// checks first that the admission policy is enforced in the namespace (else no identity can be
// trusted), then executes the Update on the Canary's running rollout with the RolloutAction's uid as
// the update id, so that a redelivery, a second worker or a restart never applies it twice; `retry`
// sets the Canary's rollout-attempt annotation instead. The outcome goes to /status and an Event.
//
// The decisions are in `actOnRolloutAction`, over small ports (cluster, steering) that unit tests fake.
import * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { eventComponent } from '../activities/canary-status.ts';
import {
  isSettled,
  rolloutActionActor,
  rolloutActionGroup,
  rolloutActionKind,
  rolloutActionApiVersion,
  rolloutActionPlural,
  rolloutActionPolicyName,
  rolloutActionStatusPatch,
  rolloutActionVersion,
  validateRolloutAction,
  type RolloutAction,
  type RolloutActionOutcome,
} from '../canary/rollout-action.ts';
import { formatProblems } from '../canary/problems.ts';
import { listRuns, type VisibilityFilter } from '../client/canary-lookup.ts';
import { requestDeadline } from '../client/kubernetes-deadline.ts';
import { apiErrorMessage } from '../client/rollout-actions.ts';
import { rolloutWorkflowId } from '../client/workflow-ids.ts';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
  rollbackUpdate,
  type ActionRequest,
  type ActionResult,
  type SteeringActionName,
} from '../workflows/steering-messages.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { retryVerdict, type PastRollout } from './rollout-retry.ts';
import type { InformerFactory, WatcherLogger } from './watcher.ts';

const updates = {
  promote: promoteUpdate,
  abort: abortUpdate,
  approve: approveUpdate,
  pause: pauseUpdate,
  resume: resumeUpdate,
  rollback: rollbackUpdate,
} as const satisfies Record<Exclude<SteeringActionName, 'retry'>, unknown>;

/** Whether the admission policy verifies RolloutActions in a namespace, and if not, why. */
export type AdmissionCheck = { enforced: true } | { enforced: false; message: string };

/** The Canary as a RolloutAction needs it. */
export interface CanaryForAction {
  uid: string;
  target: string;
  annotations: Record<string, string>;
}

/** What the controller does in the cluster. */
export interface ClusterPort {
  admission(namespace: string): Promise<AdmissionCheck>;
  readCanary(namespace: string, name: string): Promise<CanaryForAction | undefined>;
  currentRevision(namespace: string, target: string): Promise<string>;
  /** Merge patch of the Canary's annotations (retry). */
  annotateCanary(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
  writeStatus(action: { namespace: string; name: string }, outcome: RolloutActionOutcome): Promise<void>;
  recordEvent(action: RolloutAction, outcome: RolloutActionOutcome): Promise<void>;
}

/** What the controller does in Temporal. */
export interface SteeringPort {
  /** The Canary's running rollouts (newest first): one, or two while a newer revision takes over. */
  running(namespace: string, name: string): Promise<(PastRollout & { runId: string })[]>;
  /** The latest rollouts of one revision of the Canary, newest first (a few, not its whole history). */
  rolloutsOf(namespace: string, name: string, revision: string): Promise<PastRollout[]>;
  /** Executes the Update; a validator's refusal is thrown as WorkflowUpdateFailedError. */
  update(
    workflowId: string,
    action: Exclude<SteeringActionName, 'retry'>,
    request: ActionRequest,
    updateId: string,
  ): Promise<ActionResult>;
}

export interface ActOptions {
  /** RolloutActions older than this are refused, not acted on (default 10 minutes). */
  maxAgeMs?: number;
  now?: () => Date;
}

/** One RolloutAction's outcome. Throws only for what is worth trying again (Temporal or the API server unreachable). */
export async function actOnRolloutAction(
  action: RolloutAction,
  createdAt: Date | undefined,
  ports: { cluster: ClusterPort; steering: SteeringPort },
  options: ActOptions = {},
): Promise<RolloutActionOutcome> {
  const { cluster, steering } = ports;
  const { namespace } = action;
  const { canary, user } = action.spec;
  const ref = `${namespace}/${canary}`;
  const now = options.now?.() ?? new Date();
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;

  const admission = await cluster.admission(namespace);
  if (!admission.enforced) {
    return { phase: 'Refused', reason: 'AdmissionNotEnforced', message: admission.message };
  }
  // A request is acted on when it is made: an old one may predate the policy (admitted unverified
  // while it was not installed), or be one nobody expects any more.
  if (createdAt && now.getTime() - createdAt.getTime() > maxAgeMs) {
    return {
      phase: 'Refused',
      reason: 'Invalid',
      message: `created at ${createdAt.toISOString()}, more than ${Math.round(maxAgeMs / 60_000)} minutes before the worker saw it: an old request is not acted on; create it again if it still holds`,
    };
  }
  const found = await cluster.readCanary(namespace, canary);
  if (!found) {
    return {
      phase: 'Refused',
      reason: 'CanaryNotFound',
      message: `there is no Canary ${ref} (kubectl get canaries -n ${namespace})`,
    };
  }
  const rollouts = await steering.running(namespace, canary);

  if (action.spec.action === 'retry') {
    const revision = await cluster.currentRevision(namespace, found.target);
    const verdict = retryVerdict({
      canary: { namespace, name: canary, annotations: found.annotations },
      revision,
      rollouts: [...rollouts, ...(await steering.rolloutsOf(namespace, canary, revision))],
      actionUid: action.uid,
    });
    if (verdict.kind === 'refused')
      return { phase: 'Refused', reason: 'NotRetryable', message: verdict.message };
    if (verdict.kind === 'retry') await cluster.annotateCanary(namespace, canary, verdict.annotations);
    return {
      phase: 'Applied',
      reason: 'Applied',
      message: `retry by ${user}: ${verdict.message}`,
      workflowId: rolloutWorkflowId(namespace, canary, found.uid, revision, verdict.token),
    };
  }

  const running = rollouts.find((r) => r.status === 'RUNNING');
  if (!running) {
    return {
      phase: 'Refused',
      reason: 'NoRunningRollout',
      message: `no rollout of ${ref} is running: nothing to ${action.spec.action} (cutover history ${ref} lists past ones)`,
    };
  }
  const request: ActionRequest = {
    actor: rolloutActionActor(action),
    reason: action.spec.reason,
    ...(action.spec.action === 'approve' && action.spec.override ? { override: true } : {}),
  };
  try {
    const result = await steering.update(running.workflowId, action.spec.action, request, action.uid);
    return {
      phase: 'Applied',
      reason: 'Applied',
      message: result.message,
      workflowId: running.workflowId,
      runId: running.runId,
      result: { ...result },
    };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      // The validator's reason (or the handler's failure) is what the caller sees.
      const reason = error.cause?.message ?? error.message;
      return {
        phase: 'Refused',
        reason: 'RolloutRefused',
        message: `${running.workflowId} refused ${action.spec.action}: ${reason}`,
        workflowId: running.workflowId,
        runId: running.runId,
      };
    }
    if (error instanceof WorkflowNotFoundError) {
      return {
        phase: 'Refused',
        reason: 'NoRunningRollout',
        message: `the rollout ${running.workflowId} ended before the ${action.spec.action} reached it`,
        workflowId: running.workflowId,
      };
    }
    throw error;
  }
}

// ---- the ports against the real cluster and Temporal ----

export interface PortOptions {
  kubeconfig: k8s.KubeConfig;
  client: Client;
  /** The Temporal address, for error messages. */
  address: string;
  currentRevision: (input: { namespace: string; target: string }) => Promise<{ revision: string }>;
  /** Deadline of each Kubernetes call (default 10 s) and of each Update (default 20 s). */
  kubernetesTimeoutMs?: number;
  updateTimeoutMs?: number;
}

const probeUser = 'system:cutover:admission-probe';

/**
 * The admission check: a dry-run create of a RolloutAction whose spec.user is not the worker. Where
 * the policy is enforced the API server refuses it, naming the policy; anywhere else it is admitted,
 * and so would a forged one be. It proves the binding covers this namespace, not just that it exists.
 */
export async function probeAdmission(
  custom: k8s.CustomObjectsApi,
  namespace: string,
  timeoutMs: number,
): Promise<AdmissionCheck> {
  const install =
    'kubectl apply -f deploy/base/rollout-action-admission.yaml (or helm upgrade with changeControl.install=true), then create the RolloutAction again';
  try {
    await custom.createNamespacedCustomObject(
      {
        group: rolloutActionGroup,
        version: rolloutActionVersion,
        namespace,
        plural: rolloutActionPlural,
        dryRun: 'All',
        body: {
          apiVersion: rolloutActionApiVersion,
          kind: rolloutActionKind,
          metadata: { generateName: 'cutover-admission-probe-', namespace },
          spec: {
            canary: 'cutover-admission-probe',
            action: 'promote',
            reason: 'the worker checks that forged identities are refused',
            user: probeUser,
            groups: [],
          },
        },
      },
      requestDeadline(timeoutMs),
    );
  } catch (error) {
    if (!(error instanceof k8s.ApiException)) throw error;
    const message = apiErrorMessage(error);
    if (message.includes(`ValidatingAdmissionPolicy '${rolloutActionPolicyName}'`)) return { enforced: true };
    if (error.code === 403) {
      return {
        enforced: false,
        message: `the worker cannot check that the admission policy ${rolloutActionPolicyName} is enforced in ${namespace}: its dry-run create of a RolloutAction was refused (${message}); grant it create on rolloutactions.cutover.dev (deploy/base/rbac.yaml)`,
      };
    }
    if (error.code >= 500) throw error;
    return {
      enforced: false,
      message: `the admission policy ${rolloutActionPolicyName} is not what refused a forged RolloutAction in ${namespace} (${message}): ${install}`,
    };
  }
  return {
    enforced: false,
    message: `the admission policy ${rolloutActionPolicyName} is not enforced in namespace ${namespace}, so spec.user could be anyone's and the worker records no identity as verified: ${install}`,
  };
}

export function clusterPorts(options: PortOptions): { cluster: ClusterPort; steering: SteeringPort } {
  const { kubeconfig, client } = options;
  const custom = kubeconfig.makeApiClient(k8s.CustomObjectsApi);
  const core = kubeconfig.makeApiClient(k8s.CoreV1Api);
  const kubeMs = options.kubernetesTimeoutMs ?? 10_000;
  const updateMs = options.updateTimeoutMs ?? 20_000;

  const cluster: ClusterPort = {
    // Asked for every RolloutAction, never remembered: a policy removed a minute ago must not be
    // trusted now. People steer rarely; one dry run each is cheap.
    admission: (namespace) => probeAdmission(custom, namespace, kubeMs),
    async readCanary(namespace, name) {
      try {
        const raw = (await custom.getNamespacedCustomObject(
          { group: 'flagger.app', version: 'v1beta1', namespace, plural: 'canaries', name },
          requestDeadline(kubeMs),
        )) as {
          metadata?: { uid?: string; annotations?: Record<string, string> };
          spec?: { targetRef?: { name?: string } };
        };
        return {
          uid: raw.metadata?.uid ?? '',
          target: raw.spec?.targetRef?.name ?? name,
          annotations: raw.metadata?.annotations ?? {},
        };
      } catch (error) {
        if (error instanceof k8s.ApiException && error.code === 404) return undefined;
        throw error;
      }
    },
    async currentRevision(namespace, target) {
      return (await options.currentRevision({ namespace, target })).revision;
    },
    async annotateCanary(namespace, name, annotations) {
      await custom.patchNamespacedCustomObject(
        {
          group: 'flagger.app',
          version: 'v1beta1',
          namespace,
          plural: 'canaries',
          name,
          body: { metadata: { annotations } },
          fieldManager: eventComponent,
        },
        requestDeadline(kubeMs, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
      );
    },
    async writeStatus(action, outcome) {
      await custom.patchNamespacedCustomObjectStatus(
        {
          group: rolloutActionGroup,
          version: rolloutActionVersion,
          namespace: action.namespace,
          plural: rolloutActionPlural,
          name: action.name,
          body: rolloutActionStatusPatch(outcome, new Date()),
          fieldManager: eventComponent,
        },
        requestDeadline(kubeMs, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
      );
    },
    async recordEvent(action, outcome) {
      const now = new Date();
      const body: k8s.CoreV1Event = {
        apiVersion: 'v1',
        kind: 'Event',
        // One per RolloutAction and outcome: a second worker's (or a retried) write is a conflict.
        metadata: { name: `${action.name}.${outcome.phase.toLowerCase()}`, namespace: action.namespace },
        involvedObject: {
          apiVersion: rolloutActionApiVersion,
          kind: rolloutActionKind,
          name: action.name,
          namespace: action.namespace,
          uid: action.uid,
        },
        reason: outcome.reason,
        message:
          `${action.spec.action} of ${action.spec.canary} by ${action.spec.user} (${action.spec.reason}): ${outcome.message}`.slice(
            0,
            1024,
          ),
        type: outcome.phase === 'Applied' ? 'Normal' : 'Warning',
        source: { component: eventComponent },
        reportingComponent: eventComponent,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      try {
        await core.createNamespacedEvent({ namespace: action.namespace, body }, requestDeadline(kubeMs));
      } catch (error) {
        if (error instanceof k8s.ApiException && error.code === 409) return;
        throw error;
      }
    },
  };

  /** Runs from Temporal's visibility: a few, newest first, within a deadline. */
  const visible = async (
    filter: VisibilityFilter,
    limit: number,
  ): Promise<(PastRollout & { runId: string })[]> => {
    const runs = await client.withDeadline(Date.now() + kubeMs, () =>
      listRuns(client, options.address, filter, limit),
    );
    return runs.map((r) => ({
      workflowId: r.workflowId,
      runId: r.runId,
      status: r.status,
      startTime: r.startTime,
      ...(r.revision !== undefined ? { revision: r.revision } : {}),
      ...(r.phase !== undefined ? { phase: r.phase } : {}),
    }));
  };

  const steering: SteeringPort = {
    running: (namespace, name) =>
      visible({ canary: { namespace, name }, rolloutsOnly: true, running: true }, 5),
    rolloutsOf: (namespace, name, revision) =>
      visible({ canary: { namespace, name }, rolloutsOnly: true, revision }, 5),
    async update(workflowId, action, request, updateId) {
      return client.withDeadline(Date.now() + updateMs, () =>
        client.workflow.getHandle(workflowId).executeUpdate(updates[action], { args: [request], updateId }),
      );
    },
  };
  return { cluster, steering };
}

// ---- the controller ----

export interface RolloutActionControllerOptions {
  kubeconfig: k8s.KubeConfig;
  /** Watch one namespace only; all when absent. */
  namespace?: string;
  ports: { cluster: ClusterPort; steering: SteeringPort };
  log: WatcherLogger;
  /** RolloutActions acted on at once (default 4). */
  concurrency?: number;
  /** Tries of one RolloutAction whose calls fail before it is Refused (default 5), and the first delay (1 s, doubling). */
  maxAttempts?: number;
  retryDelayMs?: number;
  maxAgeMs?: number;
  informerFactory?: InformerFactory;
}

type RolloutActionObject = k8s.KubernetesObject & { spec?: unknown; status?: { phase?: string } };

export class RolloutActionController {
  private readonly options: RolloutActionControllerOptions;
  private readonly queue: KeyedQueue;
  private informer?: k8s.Informer<RolloutActionObject>;
  /** uids acted on by this process (until deleted): informer updates and resyncs change nothing. */
  private readonly settled = new Set<string>();
  private readonly attempts = new Map<string, number>();
  /** uids whose retry timer is set. */
  private readonly retrying = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(options: RolloutActionControllerOptions) {
    this.options = options;
    this.queue = new KeyedQueue(
      (key, error) =>
        this.options.log.warn('acting on a RolloutAction failed', {
          rolloutAction: key,
          error: String(error),
        }),
      { concurrency: options.concurrency ?? 4 },
    );
  }

  async start(): Promise<void> {
    const { kubeconfig, namespace } = this.options;
    const custom = kubeconfig.makeApiClient(k8s.CustomObjectsApi);
    const makeInformer: InformerFactory = this.options.informerFactory ?? k8s.makeInformer;
    const base = `/apis/${rolloutActionGroup}/${rolloutActionVersion}`;
    const path = namespace
      ? `${base}/namespaces/${namespace}/${rolloutActionPlural}`
      : `${base}/${rolloutActionPlural}`;
    const list = { group: rolloutActionGroup, version: rolloutActionVersion, plural: rolloutActionPlural };
    const informer = makeInformer<RolloutActionObject>(
      kubeconfig,
      path,
      async () =>
        (namespace
          ? await custom.listNamespacedCustomObject({ ...list, namespace })
          : await custom.listClusterCustomObject(list)) as k8s.KubernetesListObject<RolloutActionObject>,
    );
    informer.on('add', (object) => this.seen(object));
    informer.on('update', (object) => this.seen(object));
    informer.on('delete', (object) => {
      const uid = object.metadata?.uid;
      if (uid) {
        this.settled.delete(uid);
        this.attempts.delete(uid);
      }
    });
    // A watch that keeps failing (the CRD missing, a grant taken away) is retried ever less often.
    let restarts = 0;
    informer.on('error', (error: unknown) => {
      if (this.stopped) return;
      const delayMs = Math.min(1000 * 2 ** restarts, 60_000);
      restarts += 1;
      this.options.log.warn(
        'RolloutAction watch failed; restarting (until it runs, cutover approve|promote|… are not acted on: the worker needs the CRD rolloutactions.cutover.dev and the grants of deploy/base/rbac.yaml)',
        { error: String(error).split('\n')[0], delayMs },
      );
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void informer.start().then(
          () => (restarts = 0),
          () => undefined,
        );
      }, delayMs);
      this.timers.add(timer);
    });
    this.informer = informer;
    // A failed list or watch is an 'error' event (above), never a rejection: the rollouts go on.
    await informer.start();
    this.options.log.info('RolloutAction controller started', { namespace: namespace ?? 'all' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.informer?.stop();
    await this.queue.idle();
  }

  /** Resolves when nothing is being acted on (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private seen(object: RolloutActionObject): void {
    const uid = object.metadata?.uid;
    if (!uid || this.stopped || this.settled.has(uid) || isSettled(object.status)) return;
    // Waiting to be tried again (our own Pending write comes back as an update): the timer does it.
    if (this.retrying.has(uid)) return;
    void this.queue.enqueue(uid, () => this.act(object));
  }

  private async act(object: RolloutActionObject): Promise<void> {
    const uid = object.metadata?.uid ?? '';
    const key = `${object.metadata?.namespace}/${object.metadata?.name}`;
    try {
      await this.settle(object, key);
      this.settled.add(uid);
      this.attempts.delete(uid);
    } catch (error) {
      const attempt = (this.attempts.get(uid) ?? 0) + 1;
      this.attempts.set(uid, attempt);
      const cause = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
      if (this.stopped) return;
      if (attempt >= (this.options.maxAttempts ?? 5)) {
        this.settled.add(uid);
        await this.giveUp(object, key, attempt, cause);
        return;
      }
      // Safe to do again: the Update has the same id, and a retry's annotation the same token.
      const delay = (this.options.retryDelayMs ?? 1000) * 2 ** (attempt - 1);
      this.options.log.warn('could not act on a RolloutAction yet; trying again', {
        rolloutAction: key,
        attempt,
        delayMs: delay,
        error: cause,
      });
      this.retrying.add(uid);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.retrying.delete(uid);
        if (!this.stopped) void this.queue.enqueue(uid, () => this.act(object));
      }, delay);
      this.timers.add(timer);
      // Say so on the object (best effort): `cutover` and `kubectl get ract` show why it waits.
      const meta = object.metadata;
      if (meta?.name && meta.namespace) {
        await this.options.ports.cluster
          .writeStatus(
            { namespace: meta.namespace, name: meta.name },
            {
              phase: 'Pending',
              reason: 'RolloutUnreachable',
              message: `not acted on yet (try ${attempt} of ${this.options.maxAttempts ?? 5}: ${cause}); trying again in ${Math.round(delay / 1000)} s`,
            },
          )
          .catch(() => undefined);
      }
    }
  }

  /** Acts on one RolloutAction and writes the outcome; throws what is worth trying again. */
  private async settle(object: RolloutActionObject, key: string): Promise<void> {
    const { cluster } = this.options.ports;
    const validation = validateRolloutAction(object);
    if (!validation.ok) {
      // Nothing to act on, and no name to act as: say what is wrong on the object.
      const meta = object.metadata ?? {};
      if (!meta.name || !meta.namespace) return;
      await cluster.writeStatus(
        { namespace: meta.namespace, name: meta.name },
        {
          phase: 'Refused',
          reason: 'Invalid',
          message: `${key} is not a valid RolloutAction: ${formatProblems(validation.problems)}`,
        },
      );
      return;
    }
    const action = validation.action;
    const created = object.metadata?.creationTimestamp;
    const outcome = await actOnRolloutAction(
      action,
      created === undefined ? undefined : new Date(created),
      this.options.ports,
      this.options.maxAgeMs !== undefined ? { maxAgeMs: this.options.maxAgeMs } : {},
    );
    await this.report(action, key, outcome);
  }

  private async giveUp(
    object: RolloutActionObject,
    key: string,
    attempt: number,
    cause: string,
  ): Promise<void> {
    const validation = validateRolloutAction(object);
    if (!validation.ok) return;
    const outcome: RolloutActionOutcome = {
      phase: 'Refused',
      reason: 'RolloutUnreachable',
      message: `the worker could not act on it after ${attempt} tries: ${cause}; create it again once Temporal and the API server answer`,
    };
    await this.report(validation.action, key, outcome).catch((error: unknown) =>
      this.options.log.error('could not write the outcome of a RolloutAction', {
        rolloutAction: key,
        error: String(error),
      }),
    );
  }

  private async report(action: RolloutAction, key: string, outcome: RolloutActionOutcome): Promise<void> {
    const { cluster } = this.options.ports;
    await cluster.writeStatus(action, outcome);
    this.options.log.info(`RolloutAction ${outcome.phase.toLowerCase()}`, {
      rolloutAction: key,
      canary: `${action.namespace}/${action.spec.canary}`,
      action: action.spec.action,
      user: action.spec.user,
      reason: outcome.reason,
      message: outcome.message,
      ...(outcome.workflowId ? { workflowId: outcome.workflowId } : {}),
    });
    await cluster.recordEvent(action, outcome).catch((error: unknown) =>
      this.options.log.warn('could not record the event of a RolloutAction', {
        rolloutAction: key,
        error: String(error),
      }),
    );
  }
}
