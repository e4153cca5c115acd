// The Kubernetes side effects of a rollout, as Temporal activities: create the primary, its Services,
// HPA and config copies; point the apex Service at the primary; scale; judge readiness; promote.
// Each takes one JSON input, returns plain JSON and may run twice: objects are written by server-side
// apply or by precise patches, never by read-modify-write.
import type * as k8s from '@kubernetes/client-node';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { fieldManager, primaryAutoscalerName, primaryName } from '../canary/naming.ts';
import {
  computeRevision,
  referencedConfigs,
  trackedConfigs as trackedConfigChecksums,
  type TrackedConfigSource,
} from '../canary/revision.ts';
import { primaryAutoscaler } from '../resources/autoscaler.ts';
import { primaryConfigMap, primarySecret } from '../resources/config-copies.ts';
import { deploymentReadiness, type DeploymentReadiness } from '../resources/deployment-readiness.ts';
import { isOwnedBy, otherCanaryOwner, targetTakenMessage, type CanaryRef } from '../resources/owner.ts';
import {
  primaryDeployment,
  promotionPatch,
  trackedConfigNames,
  type TrackedConfigNames,
} from '../resources/primary-deployment.ts';
import { InvalidTargetError, selectorLabel, type SelectorLabel } from '../resources/selector-label.ts';
import {
  apexService,
  apexTakeoverPatch,
  canaryService,
  primaryService,
  type ServiceSettings,
} from '../resources/services.ts';
import { createCanaryStatusActivities, type CanaryStatusOptions } from './canary-status.ts';
import { recordPromotedRevision } from './promoted-revisions.ts';
import {
  jsonPatch,
  kubeClients,
  kubernetesCall,
  mergePatch,
  plain,
  readOptional,
  serverSideApply,
  isAlreadyThere,
} from './kubernetes-client.ts';

export type { CanaryRef } from '../resources/owner.ts';
export type { ServiceSettings } from '../resources/services.ts';
export type { DeploymentReadiness } from '../resources/deployment-readiness.ts';

/** What the generated objects are made from: the Canary and the parts of its spec they need. */
export interface CanaryObjectsInput {
  canary: CanaryRef;
  /** `spec.targetRef.name`: the Deployment rolled out. */
  target: string;
  /** `ValidCanary['service']`. */
  service: ServiceSettings;
  /** `spec.autoscalerRef.name`: the target's HPA, when it has one. */
  autoscaler?: string;
}

export interface InitializeResult {
  primary: string;
  /** False when the primary already existed: it is created once and only promotions change it. */
  primaryCreated: boolean;
  services: { primary: string; canary: string };
  /** The `-primary` HPA, when the Canary has an autoscaler. */
  autoscaler?: string;
  /** The `-primary` copies of tracked ConfigMaps and Secrets, as `configmap/<name>`, `secret/<name>`. */
  configs: string[];
  selectorLabel: SelectorLabel;
}

export interface PointApexResult {
  service: string;
  /** The apex existed and was not the Canary's: its selector and ports were replaced. */
  takenOver: boolean;
}

export interface CheckDeploymentReadyInput {
  namespace: string;
  name: string;
  /** Percent of the updated replicas that must be available (Flagger's ready threshold). Default 100. */
  readyThresholdPercent?: number;
}

export interface WaitForDeploymentReadyInput extends CheckDeploymentReadyInput {
  /** Give up (not ready) after this long; the workflow decides what then. */
  maxWaitMs: number;
  /** How often to read the Deployment when no synced watch covers it. */
  pollMs?: number;
}

/**
 * A watch-fed view of Deployments shared by every readiness wait in the process (the worker's
 * informer), so that a wait blocks until its Deployment changes instead of polling the API server.
 */
export interface DeploymentWatch {
  /**
   * The Deployment as the watch last saw it (`deployment` undefined: it does not exist), or undefined
   * when the watch is not synced or does not cover the namespace: then read the API server.
   */
  cached(namespace: string, name: string): { deployment: k8s.V1Deployment | undefined } | undefined;
  /** Resolves at the Deployment's next add, update or delete, or after `timeoutMs`. */
  nextChange(namespace: string, name: string, timeoutMs: number): { changed: Promise<void>; cancel(): void };
}

export interface KubernetesActivityOptions {
  /** Serves readiness waits; without it they poll every `pollMs`. */
  deployments?: DeploymentWatch;
  /** The worker's informer copy of a Canary, which status writes start from (see canary-status.ts). */
  cachedCanary?: CanaryStatusOptions['cachedCanary'];
}

/** How often a wait blocked on the watch wakes anyway, to heartbeat (well inside its 3 s heartbeat timeout). */
const heartbeatEveryMs = 1_000;

/** Heartbeats when running as an activity; a no-op when called directly (tests, the CLI). */
function heartbeat(details: string): void {
  if (Context.current === undefined) return;
  try {
    Context.current().heartbeat(details);
  } catch {
    // not inside an activity
  }
}

export interface CheckDeploymentReadyResult extends DeploymentReadiness {
  replicas: number;
  availableReplicas: number;
}

export interface ScaleDeploymentInput {
  namespace: string;
  name: string;
  replicas: number;
}

export interface ScaleUpCanaryInput {
  namespace: string;
  target: string;
  /** The target's HPA (`spec.autoscalerRef.name`); its `-primary` copy gives the minimum. */
  autoscaler?: string;
}

export interface PromoteCanaryInput {
  canary: CanaryRef;
  target: string;
  /** The revision the workflow analysed. */
  revision: string;
  autoscaler?: string;
}

export interface PromoteCanaryResult {
  /** The revision actually copied, computed from the target as read. */
  revision: string;
  /** False when the target changed after the analysis: the workflow should start over. */
  matchesExpected: boolean;
  trackedConfigs: Record<string, string>;
}

export interface CurrentRevisionInput {
  namespace: string;
  target: string;
}

export interface CurrentRevisionResult {
  revision: string;
  /** The image of the target's first container, for summaries and the image search attribute. */
  image?: string;
  /** `status.trackedConfigs`: checksum by `configmap/<name>` or `secret/<name>`. */
  trackedConfigs: Record<string, string>;
}

/** The objects of these names that exist, as plain JSON. */
async function existing<T>(
  names: readonly string[],
  read: (name: string) => Promise<T | undefined>,
): Promise<T[]> {
  const found = await Promise.all(names.map(read));
  return found.flatMap((object) => (object === undefined ? [] : [plain(object)]));
}

/** A target read with the configuration its pods read, and the revision that makes. */
interface TargetSnapshot {
  deployment: k8s.V1Deployment;
  configMaps: k8s.V1ConfigMap[];
  secrets: k8s.V1Secret[];
  trackedConfigs: Record<string, string>;
  tracked: TrackedConfigNames;
  revision: string;
}

/** Turns a target Cutover cannot use into a failure no retry repeats, with the message a person reads. */
async function asActivityFailure<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof InvalidTargetError) {
      throw ApplicationFailure.create({ message: error.message, type: 'InvalidTarget', nonRetryable: true });
    }
    throw error;
  }
}

export function createKubernetesActivities(config: k8s.KubeConfig, options: KubernetesActivityOptions = {}) {
  const clients = kubeClients(config);

  async function readDeployment(namespace: string, name: string): Promise<k8s.V1Deployment> {
    const deployment = await kubernetesCall(`read Deployment ${namespace}/${name}`, () =>
      clients.apps.readNamespacedDeployment({ name, namespace }),
    );
    return plain(deployment);
  }

  async function readTarget(namespace: string, name: string): Promise<TargetSnapshot> {
    const deployment = await readDeployment(namespace, name);
    const template = deployment.spec?.template ?? {};
    const refs = referencedConfigs(template.spec);
    // A referenced config that does not exist is not tracked (it may be optional); the pods say the rest.
    const [configMaps, secrets] = await Promise.all([
      existing(refs.configMaps, (cm) =>
        readOptional(`read ConfigMap ${namespace}/${cm}`, () =>
          clients.core.readNamespacedConfigMap({ name: cm, namespace }),
        ),
      ),
      existing(refs.secrets, (secret) =>
        readOptional(`read Secret ${namespace}/${secret}`, () =>
          clients.core.readNamespacedSecret({ name: secret, namespace }),
        ),
      ),
    ]);
    const sources: TrackedConfigSource[] = [
      ...configMaps.map((c) => configSource('ConfigMap', c)),
      ...secrets.map((s) => configSource('Secret', s)),
    ];
    const checksums = trackedConfigChecksums(template.spec, sources);
    return {
      deployment,
      configMaps,
      secrets,
      trackedConfigs: checksums,
      tracked: trackedConfigNames(checksums),
      revision: computeRevision(template, sources),
    };
  }

  /** Server-side applies the `-primary` copy of every tracked config; returns their keys. */
  async function syncConfigCopies(canary: CanaryRef, snapshot: TargetSnapshot): Promise<string[]> {
    const configMaps = snapshot.configMaps.filter((c) =>
      snapshot.tracked.configMaps.includes(c.metadata?.name ?? ''),
    );
    const secrets = snapshot.secrets.filter((s) => snapshot.tracked.secrets.includes(s.metadata?.name ?? ''));
    await Promise.all([
      ...configMaps.map((c) => serverSideApply(clients, primaryConfigMap(canary, c))),
      ...secrets.map((s) => serverSideApply(clients, primarySecret(canary, s))),
    ]);
    return Object.keys(snapshot.trackedConfigs);
  }

  function judgeReadiness(deployment: k8s.V1Deployment, input: CheckDeploymentReadyInput) {
    return {
      ...deploymentReadiness(deployment, input.readyThresholdPercent ?? 100),
      replicas: deployment.spec?.replicas ?? 1,
      availableReplicas: deployment.status?.availableReplicas ?? 0,
    };
  }

  async function checkDeploymentReady(input: CheckDeploymentReadyInput): Promise<CheckDeploymentReadyResult> {
    return judgeReadiness(await readDeployment(input.namespace, input.name), input);
  }

  /**
   * Waits on the shared watch. It starts from one read of the API server, which sees every write the
   * workflow made before this wait; the watch's copy is used only once it is at least that generation,
   * so a watch that lags behind the workflow's own scale or promotion cannot report the old state ready.
   */
  async function waitOnWatch(
    watch: DeploymentWatch,
    input: WaitForDeploymentReadyInput,
  ): Promise<CheckDeploymentReadyResult> {
    const { namespace, name } = input;
    const deadline = Date.now() + input.maxWaitMs;
    let deployment = await readDeployment(namespace, name);
    /** A later state than `than`: another version, of at least its generation (a lagging watch is not). */
    const newer = (candidate: k8s.V1Deployment | undefined, than: k8s.V1Deployment): boolean =>
      candidate !== undefined &&
      candidate.metadata?.resourceVersion !== than.metadata?.resourceVersion &&
      (candidate.metadata?.generation ?? 0) >= (than.metadata?.generation ?? 0);
    for (;;) {
      const readiness = judgeReadiness(deployment, input);
      const left = deadline - Date.now();
      if (readiness.ready || readiness.progressDeadlineExceeded || left <= 0) return readiness;
      heartbeat(readiness.message);
      if (watch.cached(namespace, name) === undefined) {
        // The watch dropped (it restarts by itself): poll until it is back.
        await new Promise((resolve) => setTimeout(resolve, Math.min(left, input.pollMs ?? 100)));
        deployment = await readDeployment(namespace, name);
        continue;
      }
      // Ask to be woken before looking, so a change between the look and the wait is not missed.
      const next = watch.nextChange(namespace, name, Math.min(left, heartbeatEveryMs));
      let seen = watch.cached(namespace, name);
      if (newer(seen?.deployment, deployment)) next.cancel();
      else {
        await next.changed;
        seen = watch.cached(namespace, name);
      }
      if (seen?.deployment === undefined) {
        // The watch went away, or says the Deployment is gone: the API server has the last word (a
        // missing Deployment fails the activity as it always did).
        deployment = await readDeployment(namespace, name);
      } else if (newer(seen.deployment, deployment)) {
        deployment = seen.deployment;
      }
    }
  }

  async function syncPrimaryAutoscaler(
    canary: CanaryRef,
    target: string,
    autoscaler: string,
  ): Promise<string> {
    const hpa = await kubernetesCall(
      `read the autoscalerRef HorizontalPodAutoscaler ${canary.namespace}/${autoscaler}`,
      () =>
        clients.autoscaling.readNamespacedHorizontalPodAutoscaler({
          name: autoscaler,
          namespace: canary.namespace,
        }),
    );
    const applied = await serverSideApply(
      clients,
      primaryAutoscaler({ canary, hpa: plain(hpa), targetName: target }),
    );
    return applied.metadata?.name ?? primaryAutoscalerName(autoscaler);
  }

  /**
   * Two Canaries on one target, reconciled before either primary existed, both get here. Asked before
   * anything is written and again when the create finds the primary there: the Canary whose primary it
   * is not (read from the API server, as the watch may not have seen it yet) stops before it touches a
   * Service, and fails with the message on itself.
   */
  async function refuseTakenPrimary(canary: CanaryRef, target: string): Promise<void> {
    const name = primaryName(target);
    const existing = await readOptional(`read Deployment ${canary.namespace}/${name}`, () =>
      clients.apps.readNamespacedDeployment({ name, namespace: canary.namespace }),
    );
    const owner = otherCanaryOwner(existing?.metadata, canary);
    if (owner) {
      throw ApplicationFailure.create({
        message: targetTakenMessage(canary, target, name, owner.name),
        type: 'InvalidTarget',
        nonRetryable: true,
      });
    }
  }

  return {
    ...createCanaryStatusActivities(
      config,
      options.cachedCanary ? { cachedCanary: options.cachedCanary } : {},
    ),

    /**
     * Creates what a blue/green Canary needs besides the apex Service: the `-primary` config copies,
     * the primary Deployment (once: an existing primary is left alone, only promotions change it),
     * the `-primary` and `-canary` Services and the primary HPA.
     */
    async initializeCanaryObjects(input: CanaryObjectsInput): Promise<InitializeResult> {
      const { canary } = input;
      const snapshot = await readTarget(canary.namespace, input.target);
      const label = await asActivityFailure(() => selectorLabel(snapshot.deployment));
      await refuseTakenPrimary(canary, input.target);
      const configs = await syncConfigCopies(canary, snapshot);

      const primary = await asActivityFailure(() =>
        primaryDeployment({ canary, target: snapshot.deployment, tracked: snapshot.tracked }),
      );
      let primaryCreated = true;
      try {
        await kubernetesCall(`create Deployment ${canary.namespace}/${primaryName(input.target)}`, () =>
          clients.apps.createNamespacedDeployment({
            namespace: canary.namespace,
            body: primary,
            fieldManager,
          }),
        );
      } catch (error) {
        if (!isAlreadyThere(error)) throw error;
        primaryCreated = false;
        await refuseTakenPrimary(canary, input.target);
      }

      const services = { canary, target: snapshot.deployment, service: input.service };
      const [primarySvc, canarySvc] = await Promise.all([
        serverSideApply(clients, await asActivityFailure(() => primaryService(services))),
        serverSideApply(clients, await asActivityFailure(() => canaryService(services))),
      ]);
      const autoscaler = input.autoscaler
        ? await syncPrimaryAutoscaler(canary, input.target, input.autoscaler)
        : undefined;
      return {
        primary: primary.metadata?.name ?? primaryName(input.target),
        primaryCreated,
        services: { primary: primarySvc.metadata?.name ?? '', canary: canarySvc.metadata?.name ?? '' },
        ...(autoscaler ? { autoscaler } : {}),
        configs,
        selectorLabel: label,
      };
    },

    /**
     * Points the apex Service at the primary's pods. Created (and owned by the Canary) if missing; an
     * apex someone else created is taken over: its selector and ports are replaced and the previous
     * ones kept in an annotation, but it stays theirs, so deleting the Canary does not delete it.
     */
    async pointApexAtPrimary(input: CanaryObjectsInput): Promise<PointApexResult> {
      const { canary } = input;
      const target = await readDeployment(canary.namespace, input.target);
      const desired = await asActivityFailure(() => apexService({ canary, target, service: input.service }));
      const name = input.service.name;
      const existing = await readOptional(`read Service ${canary.namespace}/${name}`, () =>
        clients.core.readNamespacedService({ name, namespace: canary.namespace }),
      );
      if (existing === undefined || isOwnedBy(existing.metadata, canary)) {
        await serverSideApply(clients, desired);
        return { service: name, takenOver: false };
      }
      await kubernetesCall(`take over Service ${canary.namespace}/${name}`, () =>
        clients.core.patchNamespacedService(
          {
            name,
            namespace: canary.namespace,
            body: apexTakeoverPatch({ existing: plain(existing), desired }),
            fieldManager,
          },
          jsonPatch,
        ),
      );
      return { service: name, takenOver: true };
    },

    /** One look at a Deployment, judged like `kubectl rollout status`. The workflow polls on timers. */
    checkDeploymentReady,

    /**
     * Waits up to `maxWaitMs` for a Deployment to be ready, heartbeating as it goes: one activity
     * instead of a poll loop in the workflow's history, and readiness noticed as the watch reports it
     * rather than at the next durable timer. Without a synced watch it reads every `pollMs`.
     */
    async waitForDeploymentReady(input: WaitForDeploymentReadyInput): Promise<CheckDeploymentReadyResult> {
      const watch = options.deployments;
      if (watch?.cached(input.namespace, input.name) !== undefined) return waitOnWatch(watch, input);
      const deadline = Date.now() + input.maxWaitMs;
      for (;;) {
        const readiness = await checkDeploymentReady(input);
        if (readiness.ready || readiness.progressDeadlineExceeded || Date.now() >= deadline) return readiness;
        heartbeat(readiness.message);
        await new Promise((resolve) => setTimeout(resolve, input.pollMs ?? 100));
      }
    },

    /** Sets `spec.replicas` with a merge patch of that one field. */
    async scaleDeployment(input: ScaleDeploymentInput): Promise<{ replicas: number }> {
      await kubernetesCall(`scale Deployment ${input.namespace}/${input.name} to ${input.replicas}`, () =>
        clients.apps.patchNamespacedDeployment(
          {
            name: input.name,
            namespace: input.namespace,
            body: { spec: { replicas: input.replicas } },
            fieldManager,
          },
          mergePatch,
        ),
      );
      return { replicas: input.replicas };
    },

    /**
     * Scales the target up for analysis: to its own replicas if it has any, else the primary HPA's
     * minReplicas, else the primary's replicas, else 1. Returns the replicas it set.
     */
    async scaleUpCanary(input: ScaleUpCanaryInput): Promise<{ replicas: number }> {
      const { namespace } = input;
      const target = await readDeployment(namespace, input.target);
      let replicas = target.spec?.replicas ?? 0;
      if (replicas > 0) return { replicas };
      if (input.autoscaler) {
        const hpaName = primaryAutoscalerName(input.autoscaler);
        const hpa = await readOptional(`read HorizontalPodAutoscaler ${namespace}/${hpaName}`, () =>
          clients.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: hpaName, namespace }),
        );
        replicas = hpa?.spec?.minReplicas ?? 0;
      }
      if (replicas < 1) {
        const primary = await readOptional(`read Deployment ${namespace}/${primaryName(input.target)}`, () =>
          clients.apps.readNamespacedDeployment({ name: primaryName(input.target), namespace }),
        );
        replicas = primary?.spec?.replicas ?? 0;
      }
      if (replicas < 1) replicas = 1;
      await kubernetesCall(`scale Deployment ${namespace}/${input.target} to ${replicas}`, () =>
        clients.apps.patchNamespacedDeployment(
          { name: input.target, namespace, body: { spec: { replicas } }, fieldManager },
          mergePatch,
        ),
      );
      return { replicas };
    },

    /**
     * Copies the target's pod template (with the selector label and config references rewritten) and
     * rollout settings to the primary, after syncing the `-primary` config copies. Without an HPA the
     * primary also takes the target's replicas. Returns the revision copied, which differs from
     * `input.revision` when the target changed after the analysis.
     */
    async promoteCanary(input: PromoteCanaryInput): Promise<PromoteCanaryResult> {
      const { canary } = input;
      const snapshot = await readTarget(canary.namespace, input.target);
      if (snapshot.revision !== input.revision) {
        // The target changed after the analysis began: never promote a template nobody analysed.
        return {
          revision: snapshot.revision,
          matchesExpected: false,
          trackedConfigs: snapshot.trackedConfigs,
        };
      }
      const targetReplicas = snapshot.deployment.spec?.replicas ?? 0;
      const patch = await asActivityFailure(() =>
        promotionPatch({
          target: snapshot.deployment,
          tracked: snapshot.tracked,
          ...(input.autoscaler === undefined && targetReplicas > 0 ? { replicas: targetReplicas } : {}),
        }),
      );
      await syncConfigCopies(canary, snapshot);
      const primary = primaryName(input.target);
      await kubernetesCall(
        `copy the template of ${input.target} to Deployment ${canary.namespace}/${primary}`,
        () =>
          clients.apps.patchNamespacedDeployment(
            { name: primary, namespace: canary.namespace, body: patch, fieldManager },
            jsonPatch,
          ),
      );
      if (input.autoscaler) await syncPrimaryAutoscaler(canary, input.target, input.autoscaler);
      // Kept for `cutover undo`: the template as the target had it, before the primary's renames.
      await recordPromotedRevision(
        clients,
        canary,
        snapshot.revision,
        snapshot.deployment.spec?.template ?? {},
      );
      return { revision: snapshot.revision, matchesExpected: true, trackedConfigs: snapshot.trackedConfigs };
    },

    /** The target's revision and the checksums of the configs it reads, as they are now. */
    async currentRevision(input: CurrentRevisionInput): Promise<CurrentRevisionResult> {
      const snapshot = await readTarget(input.namespace, input.target);
      const image = firstImage(snapshot.deployment);
      return {
        revision: snapshot.revision,
        trackedConfigs: snapshot.trackedConfigs,
        ...(image ? { image } : {}),
      };
    },

    /** The image of a Deployment's first container, or undefined when it does not exist. */
    async deploymentImage(input: { namespace: string; name: string }): Promise<string | undefined> {
      const deployment = await readOptional(`read Deployment ${input.namespace}/${input.name}`, () =>
        clients.apps.readNamespacedDeployment({ name: input.name, namespace: input.namespace }),
      );
      return deployment ? firstImage(deployment) : undefined;
    },
  };
}

function firstImage(deployment: k8s.V1Deployment): string | undefined {
  return deployment.spec?.template.spec?.containers[0]?.image;
}

/** The activities that reach Kubernetes, as workflows proxy them. */
export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;

function configSource(kind: 'ConfigMap', config: k8s.V1ConfigMap): TrackedConfigSource;
function configSource(kind: 'Secret', config: k8s.V1Secret): TrackedConfigSource;
function configSource(
  kind: 'ConfigMap' | 'Secret',
  config: k8s.V1ConfigMap | k8s.V1Secret,
): TrackedConfigSource {
  return {
    kind,
    name: config.metadata?.name ?? '',
    ...(config.data ? { data: config.data } : {}),
    ...('binaryData' in config && config.binaryData ? { binaryData: config.binaryData } : {}),
    ...(config.metadata?.annotations ? { annotations: config.metadata.annotations } : {}),
    ...('type' in config && config.type ? { type: config.type } : {}),
  };
}
