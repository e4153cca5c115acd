// What people see of a rollout: the Canary's `/status` (phase, counters, revisions, the `Promoted`
// condition) and Kubernetes Events on the Canary, reason `Synced`, worded so that `kubectl describe`
// reads like the story of the rollout. Safe to run twice: status is a merge patch guarded by the
// resourceVersion it was computed from, and each event's name comes from a key the workflow chooses,
// so a retried activity finds its event already there instead of writing it again.
import type * as k8s from '@kubernetes/client-node';
import { hashHex } from '../canary/revision.ts';
import { apiGroup, canaryStatusSchema, type CanaryStatus, type Condition } from '../canary/spec.ts';
import { CanaryPhase, promotedConditionType, withPromotedCondition } from '../canary/status.ts';
import { canaryOwnerReference, type CanaryRef } from '../resources/owner.ts';
import {
  isAlreadyThere,
  kubeClients,
  kubernetesCall,
  mergePatch,
  readOptional,
} from './kubernetes-client.ts';

const canaryVersion = 'v1beta1';
const canaryPlural = 'canaries';
export const eventReason = 'Synced';
export const eventComponent = 'cutover';

export interface CanaryStatusUpdate {
  phase?: CanaryPhase;
  failedChecks?: number;
  iterations?: number;
  canaryWeight?: number;
  lastAppliedSpec?: string;
  lastPromotedSpec?: string;
  /** Replaces the whole map (configs no longer referenced are removed). */
  trackedConfigs?: Record<string, string>;
  /** The `Promoted` condition's message; the phase's standard one when absent. */
  message?: string;
  /**
   * A condition of another type (e.g. `Stalled`), set beside `Promoted`; lastTransitionTime moves
   * only when its status changes. Written only when something in it changed.
   */
  condition?: { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string };
}

export interface CanaryEvent {
  /** Deterministic per event (e.g. `<workflowId>/<step>`): the same key never makes a second Event. */
  key: string;
  type: 'Normal' | 'Warning';
  message: string;
}

export interface ReportProgressInput {
  canary: CanaryRef;
  status?: CanaryStatusUpdate;
  events?: CanaryEvent[];
}

export interface ReportProgressResult {
  /** False when the Canary (this one, by uid) is gone: nothing was written. */
  found: boolean;
  /** The phase moved (lastTransitionTime and the `Promoted` condition were set). */
  phaseChanged: boolean;
  /** Events written by this call; retried ones that already existed are not counted. */
  eventsCreated: number;
}

export interface ReportInvalidCanaryInput {
  canary: CanaryRef;
  /** `formatProblems(problems)`: each problem names the field and the fix. */
  message: string;
}

export interface ReadCanaryInput {
  namespace: string;
  name: string;
}

/** The Event name for `key`: `<canary>.<16 hex digits>`, like the names kubectl's recorder makes. */
export function canaryEventName(canary: CanaryRef, key: string): string {
  return `${canary.name.slice(0, 253 - 17)}.${hashHex(`${canary.uid}\n${key}`)}`;
}

/** RFC 3339 in seconds, as Kubernetes and Flagger write times. */
function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function statusOf(object: unknown): CanaryStatus {
  const status = (object as { status?: unknown } | null)?.status;
  const parsed = canaryStatusSchema.safeParse(status ?? {});
  return parsed.success ? parsed.data : {};
}

function metadataOf(object: unknown): { uid?: string; resourceVersion?: string } {
  const meta = (object as { metadata?: { uid?: unknown; resourceVersion?: unknown } } | null)?.metadata;
  return {
    ...(typeof meta?.uid === 'string' ? { uid: meta.uid } : {}),
    ...(typeof meta?.resourceVersion === 'string' ? { resourceVersion: meta.resourceVersion } : {}),
  };
}

/**
 * The merge patch of `/status` that brings `current` to `update`: only the fields given; a phase that
 * changes also moves `lastTransitionTime` and the `Promoted` condition; `trackedConfigs` keys that
 * went away are deleted (a merge patch would otherwise keep them).
 */
export function statusPatch(
  current: CanaryStatus,
  update: CanaryStatusUpdate,
  now: string,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const { phase, message, trackedConfigs, condition, ...counters } = update;
  for (const [field, value] of Object.entries(counters)) {
    if (value !== undefined) patch[field] = value;
  }
  if (trackedConfigs !== undefined) {
    const next: Record<string, string | null> = { ...trackedConfigs };
    for (const key of Object.keys(current.trackedConfigs ?? {})) {
      if (!(key in trackedConfigs)) next[key] = null;
    }
    patch.trackedConfigs = next;
  }
  if (phase !== undefined) {
    const phaseChanged = current.phase !== phase;
    const condition = current.conditions?.find((c) => c.type === promotedConditionType);
    const messageChanged = message !== undefined && condition?.message !== message;
    if (phaseChanged || messageChanged || condition === undefined) {
      patch.phase = phase;
      if (phaseChanged) patch.lastTransitionTime = now;
      patch.conditions = withPromotedCondition({
        phase,
        now,
        ...(message !== undefined ? { message } : {}),
        ...(current.conditions ? { previous: current.conditions } : {}),
      });
    }
  }
  if (condition !== undefined) {
    const conditions = (patch.conditions as Condition[] | undefined) ?? current.conditions ?? [];
    const before = conditions.find((c) => c.type === condition.type);
    const same =
      before !== undefined &&
      before.status === condition.status &&
      before.reason === condition.reason &&
      before.message === condition.message;
    if (!same) {
      const transitioned = before === undefined || before.status !== condition.status;
      patch.conditions = [
        ...conditions.filter((c) => c.type !== condition.type),
        {
          ...condition,
          lastUpdateTime: now,
          lastTransitionTime: transitioned ? now : (before.lastTransitionTime ?? now),
        },
      ];
    }
  }
  return patch;
}

export interface CanaryStatusOptions {
  /**
   * The worker's informer copy of a Canary, when it has one. A status write starts from it instead of
   * a read of the API server (a quorum read, once per tick per rollout); the write is a compare-and-swap
   * on its resourceVersion, so a copy that lags is refused and the write retried from a fresh read.
   */
  cachedCanary?: (namespace: string, name: string) => Record<string, unknown> | undefined;
}

export function createCanaryStatusActivities(config: k8s.KubeConfig, options: CanaryStatusOptions = {}) {
  const clients = kubeClients(config);
  const canaryPath = (namespace: string, name: string) => ({
    group: apiGroup,
    version: canaryVersion,
    namespace,
    plural: canaryPlural,
    name,
  });

  async function readCanaryObject(namespace: string, name: string): Promise<Record<string, unknown> | null> {
    const object: unknown = await readOptional(`read Canary ${namespace}/${name}`, () =>
      clients.custom.getNamespacedCustomObject(canaryPath(namespace, name)),
    );
    return object !== null && typeof object === 'object' ? (object as Record<string, unknown>) : null;
  }

  /** Patches `/status`; retries itself when the Canary changed between the read and the write. */
  async function patchStatus(
    canary: CanaryRef,
    update: CanaryStatusUpdate,
  ): Promise<{ found: boolean; phaseChanged: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const cached = attempt === 1 ? options.cachedCanary?.(canary.namespace, canary.name) : undefined;
      const object =
        cached && metadataOf(cached).uid === canary.uid
          ? cached
          : await readCanaryObject(canary.namespace, canary.name);
      const meta = metadataOf(object);
      if (object === null || meta.uid !== canary.uid) return { found: false, phaseChanged: false };
      const current = statusOf(object);
      const patch = statusPatch(current, update, nowRfc3339());
      if (Object.keys(patch).length === 0) return { found: true, phaseChanged: false };
      try {
        await kubernetesCall(`update the status of Canary ${canary.namespace}/${canary.name}`, () =>
          clients.custom.patchNamespacedCustomObjectStatus(
            {
              ...canaryPath(canary.namespace, canary.name),
              // The resourceVersion makes the patch a compare-and-swap: a status computed from a stale read is refused.
              body: { metadata: { resourceVersion: meta.resourceVersion }, status: patch },
              fieldManager: eventComponent,
            },
            mergePatch,
          ),
        );
        return { found: true, phaseChanged: 'lastTransitionTime' in patch };
      } catch (error) {
        if (!isAlreadyThere(error) || attempt >= 5) throw error;
      }
    }
  }

  async function createEvent(canary: CanaryRef, event: CanaryEvent): Promise<boolean> {
    const now = new Date();
    const body: k8s.CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: canaryEventName(canary, event.key), namespace: canary.namespace },
      involvedObject: {
        apiVersion: canaryOwnerReference(canary).apiVersion,
        kind: 'Canary',
        name: canary.name,
        namespace: canary.namespace,
        uid: canary.uid,
      },
      reason: eventReason,
      message: event.message,
      type: event.type,
      source: { component: eventComponent },
      reportingComponent: eventComponent,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await kubernetesCall(`record an event on Canary ${canary.namespace}/${canary.name}`, () =>
        clients.core.createNamespacedEvent({ namespace: canary.namespace, body }),
      );
      return true;
    } catch (error) {
      if (isAlreadyThere(error)) return false;
      throw error;
    }
  }

  async function reportProgress(input: ReportProgressInput): Promise<ReportProgressResult> {
    const { canary } = input;
    let found = true;
    let phaseChanged = false;
    if (input.status !== undefined) {
      ({ found, phaseChanged } = await patchStatus(canary, input.status));
    } else {
      const cached = options.cachedCanary?.(canary.namespace, canary.name);
      const meta = metadataOf(cached ?? (await readCanaryObject(canary.namespace, canary.name)));
      found = meta.uid === canary.uid;
    }
    if (!found) return { found, phaseChanged, eventsCreated: 0 };
    let eventsCreated = 0;
    // In order, so that `kubectl describe` lists them as they happened.
    for (const event of input.events ?? []) {
      if (await createEvent(canary, event)) eventsCreated++;
    }
    return { found, phaseChanged, eventsCreated };
  }

  return {
    /**
     * Writes the given status fields (setting lastTransitionTime and the `Promoted` condition when the
     * phase changes) and records the events not recorded yet. Does nothing when the Canary is gone.
     */
    reportProgress,

    /**
     * Tells the owner of a Canary Cutover cannot run what to fix: phase `Failed`, a `Promoted`
     * condition and a Warning event carrying `message`. Touches nothing else.
     */
    async reportInvalidCanary(input: ReportInvalidCanaryInput): Promise<ReportProgressResult> {
      return reportProgress({
        canary: input.canary,
        status: { phase: CanaryPhase.Failed, message: input.message },
        events: [{ key: `invalid/${hashHex(input.message)}`, type: 'Warning', message: input.message }],
      });
    },

    /** The Canary as stored (spec and status, unvalidated), or null when there is none. */
    async readCanary(input: ReadCanaryInput): Promise<Record<string, unknown> | null> {
      return readCanaryObject(input.namespace, input.name);
    },
  };
}

export type CanaryStatusActivities = ReturnType<typeof createCanaryStatusActivities>;
