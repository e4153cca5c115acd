// The revision watcher: informers (watches, not polls) on Canaries, their target Deployments and the
// ConfigMaps and Secrets those read (as metadata only: no Secret value is held here). Any change that can make a new revision reconciles the canaries
// it concerns: one at a time per canary, a bounded number at once across canaries, and a reconcile
// that fails is retried with backoff. Reconcile itself decides whether anything starts.
//
// Every index here is keyed by what exists in the cluster and forgets an entry when its object is
// deleted, so the watcher's memory follows the number of Canaries, never the number of rollouts.
import * as k8s from '@kubernetes/client-node';
import { rolloutAttemptAnnotation } from '../canary/annotations.ts';
import type { PodSpecConfigRefs } from '../canary/revision.ts';
import { referencedConfigs } from '../canary/revision.ts';
import { DeploymentCache } from './deployment-cache.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { metadataOnly } from './metadata-only.ts';
import { reconcileCanary } from './reconcile.ts';
import type { ReconcileDeps, ReconcileOutcome } from './reconcile.ts';

export interface WatcherLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** What the watcher uses of the shared Deployment informer (worker/deployment-cache.ts). */
export interface DeploymentEvents {
  on(event: 'add' | 'update' | 'delete', handler: (deployment: k8s.V1Deployment) => void): void;
  /** The Deployments listed so far: what a subscriber that comes after the start has missed. */
  list(): readonly k8s.V1Deployment[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Makes an informer for a list path (k8s.makeInformer; unit tests drive a fake one). */
export type InformerFactory = <T extends k8s.KubernetesObject>(
  kubeconfig: k8s.KubeConfig,
  path: string,
  list: () => Promise<k8s.KubernetesListObject<T>>,
) => k8s.Informer<T>;

export interface WatcherOptions extends ReconcileDeps {
  kubeconfig: k8s.KubeConfig;
  /** Watch one namespace only; all when absent. */
  namespace?: string;
  log: WatcherLogger;
  /** The process's shared Deployment informer, started and stopped by its owner; else the watcher makes one. */
  deployments?: DeploymentEvents;
  /** Canaries reconciled at once; default 16. */
  reconcileConcurrency?: number;
  /** First retry of a failed reconcile; doubles up to `maxRetryDelayMs`. Defaults 1 s and 60 s. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  informerFactory?: InformerFactory;
  /** How long a deleted Deployment's replicas are remembered (revertOnDeletion); default 60 s. */
  deletedReplicasTtlMs?: number;
  /** Called with every Canary as it changes (for controller metrics). */
  onCanary?: (canary: CanaryObject, previous: CanaryObject | undefined) => void;
  /** `lastReplicas` is what the watcher last saw of a Deployment: the primary may already be gone. */
  onCanaryDeleted?: (
    canary: CanaryObject,
    lastReplicas: (namespace: string, name: string) => number | undefined,
  ) => Promise<void> | void;
  onReconciled?: (key: string, outcome: ReconcileOutcome) => void;
}

export interface CanaryObject extends k8s.KubernetesObject {
  spec?: { targetRef?: { name?: string }; revertOnDeletion?: boolean };
  status?: {
    phase?: string;
    lastAppliedSpec?: string;
    lastPromotedSpec?: string;
    lastTransitionTime?: string;
  };
}

type Watched = k8s.KubernetesObject & { spec?: { template?: { spec?: PodSpecConfigRefs } } };

const key = (namespace: string | undefined, name: string | undefined): string =>
  `${namespace ?? ''}/${name ?? ''}`;

/** Adds `value` to the set at `mapKey`, or removes it (and the set once empty). */
function index(map: Map<string, Set<string>>, mapKey: string, value: string, add: boolean): void {
  let set = map.get(mapKey);
  if (add) {
    if (!set) map.set(mapKey, (set = new Set()));
    set.add(value);
  } else if (set) {
    set.delete(value);
    if (set.size === 0) map.delete(mapKey);
  }
}

export class RevisionWatcher {
  private readonly options: WatcherOptions;
  private readonly canaries = new Map<string, CanaryObject>();
  /** Deployment key → the canaries whose target it is. */
  private readonly targets = new Map<string, Set<string>>();
  /** Deployment key → the generation last seen, so status-only updates are ignored. */
  private readonly generations = new Map<string, number>();
  /** Deployment key → its replicas as last seen. */
  private readonly replicas = new Map<string, number>();
  /** `ConfigMap/ns/name` or `Secret/ns/name` → target Deployment keys that read it. */
  private readonly configReaders = new Map<string, Set<string>>();
  /** Deployment key → the config keys it reads (the reverse of `configReaders`). */
  private readonly configsRead = new Map<string, string[]>();
  /** Canary key → failed reconciles in a row and the timer of the next try. */
  private readonly retries = new Map<string, { attempts: number; timer?: NodeJS.Timeout }>();
  private readonly informers: k8s.Informer<k8s.KubernetesObject>[] = [];
  private readonly deployments: DeploymentEvents;
  private readonly ownsDeployments: boolean;
  private readonly queue: KeyedQueue;
  private stopped = false;

  constructor(options: WatcherOptions) {
    this.options = options;
    this.ownsDeployments = options.deployments === undefined;
    this.deployments =
      options.deployments ??
      new DeploymentCache({ kubeconfig: options.kubeconfig, namespace: options.namespace, log: options.log });
    this.queue = new KeyedQueue((canary, error) => this.retryLater(canary, error), {
      concurrency: options.reconcileConcurrency ?? 16,
    });
  }

  async start(): Promise<void> {
    const { kubeconfig, namespace } = this.options;
    const makeInformer: InformerFactory = this.options.informerFactory ?? k8s.makeInformer;
    const custom = kubeconfig.makeApiClient(k8s.CustomObjectsApi);
    // Configs are watched as metadata: a change is all the watcher needs (worker/metadata-only.ts).
    const configs = metadataOnly(kubeconfig);
    const configsCore = configs.makeApiClient(k8s.CoreV1Api);
    const scoped = (path: string, group: string): string =>
      namespace ? `${group}/namespaces/${namespace}/${path}` : `${group}/${path}`;

    const canaryInformer = makeInformer<CanaryObject>(
      kubeconfig,
      scoped('canaries', '/apis/flagger.app/v1beta1'),
      async () =>
        (namespace
          ? await custom.listNamespacedCustomObject({
              group: 'flagger.app',
              version: 'v1beta1',
              namespace,
              plural: 'canaries',
            })
          : await custom.listClusterCustomObject({
              group: 'flagger.app',
              version: 'v1beta1',
              plural: 'canaries',
            })) as k8s.KubernetesListObject<CanaryObject>,
    );
    const configMapInformer = makeInformer<k8s.V1ConfigMap>(configs, scoped('configmaps', '/api/v1'), () =>
      namespace
        ? configsCore.listNamespacedConfigMap({ namespace })
        : configsCore.listConfigMapForAllNamespaces(),
    );
    const secretInformer = makeInformer<k8s.V1Secret>(configs, scoped('secrets', '/api/v1'), () =>
      namespace ? configsCore.listNamespacedSecret({ namespace }) : configsCore.listSecretForAllNamespaces(),
    );

    canaryInformer.on('add', (canary) => this.onCanary(canary));
    canaryInformer.on('update', (canary) => this.onCanary(canary));
    canaryInformer.on('delete', (canary) => this.onCanaryDeleted(canary));
    this.deployments.on('add', (d) => this.onDeployment(d));
    this.deployments.on('update', (d) => this.onDeployment(d));
    this.deployments.on('delete', (d) => this.onDeploymentDeleted(d));
    // A shared informer may have listed already; in the same tick as subscribing, so nothing is missed.
    for (const d of this.deployments.list()) this.onDeployment(d);
    for (const [kind, informer] of [
      ['ConfigMap', configMapInformer],
      ['Secret', secretInformer],
    ] as const) {
      const onConfig = (object: k8s.KubernetesObject): void => this.onConfig(kind, object);
      (informer as k8s.Informer<k8s.KubernetesObject>).on('update', onConfig);
      (informer as k8s.Informer<k8s.KubernetesObject>).on('add', onConfig);
    }

    // Deployments first, so the config index exists when the first canaries are reconciled.
    if (this.ownsDeployments) await this.deployments.start();
    for (const informer of [
      configMapInformer,
      secretInformer,
      canaryInformer,
    ] as k8s.Informer<k8s.KubernetesObject>[]) {
      informer.on('error', (error: unknown) => {
        if (this.stopped) return;
        this.options.log.warn('watch dropped; restarting', { error: String(error) });
        setTimeout(() => void informer.start().catch(() => undefined), 1000);
      });
      this.informers.push(informer);
      await informer.start();
      // Stopped while starting (a SIGTERM at start-up): stop() has already run over what it found.
      if (this.stopped) {
        for (const started of this.informers) await started.stop();
        return;
      }
    }
    this.options.log.info('revision watcher started', {
      canaries: this.canaries.size,
      namespace: namespace ?? 'all',
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const informer of this.informers) await informer.stop();
    if (this.ownsDeployments) await this.deployments.stop();
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
    this.retries.clear();
    await this.queue.idle();
  }

  /** Resolves when every reconcile asked for so far has run (tests and benchmarks wait on it). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /**
   * The Canary as the informer last saw it, for the status writes of rollouts (they start from it
   * instead of a read of the API server). Undefined when the watcher has not seen it.
   */
  cachedCanary(namespace: string, name: string): Record<string, unknown> | undefined {
    return this.canaries.get(key(namespace, name)) as Record<string, unknown> | undefined;
  }

  /** How many entries each index holds (a test checks they shrink back as objects are deleted). */
  sizes(): Record<string, number> {
    return {
      canaries: this.canaries.size,
      targets: this.targets.size,
      generations: this.generations.size,
      replicas: this.replicas.size,
      configReaders: this.configReaders.size,
      configsRead: this.configsRead.size,
      retries: this.retries.size,
      queued: this.queue.size,
      lastStarted: this.options.lastStarted?.size ?? 0,
    };
  }

  private reconcile(canaryKey: string): void {
    void this.queue.enqueue(canaryKey, async () => {
      const canary = this.canaries.get(canaryKey);
      if (!canary || this.stopped) return;
      const outcome = await reconcileCanary(canary, this.options);
      this.succeeded(canaryKey);
      if (outcome.kind === 'rollout' || outcome.kind === 'initializing') {
        if (outcome.started) {
          this.options.log.info(outcome.kind === 'rollout' ? 'rollout started' : 'initialization started', {
            canary: canary.metadata?.name,
            namespace: canary.metadata?.namespace,
            revision: outcome.revision,
            workflowId: outcome.workflowId,
            ...(outcome.kind === 'rollout' && outcome.supersedes ? { supersedes: outcome.supersedes } : {}),
          });
        }
      } else if (outcome.kind === 'invalid') {
        this.options.log.warn('canary cannot run', {
          canary: canary.metadata?.name,
          namespace: canary.metadata?.namespace,
          reason: outcome.message,
        });
      }
      this.options.onReconciled?.(canaryKey, outcome);
    });
  }

  /**
   * No informer resyncs, so a reconcile that failed (the API server or Temporal busy or away) would
   * otherwise wait for the canary's next change: it is tried again after 1 s, 2 s, 4 s… up to 60 s.
   */
  private retryLater(canaryKey: string, error: unknown): void {
    const retry = this.retries.get(canaryKey) ?? { attempts: 0 };
    retry.attempts += 1;
    const base = this.options.retryDelayMs ?? 1000;
    const delayMs = Math.min(base * 2 ** (retry.attempts - 1), this.options.maxRetryDelayMs ?? 60_000);
    this.options.log.error('reconcile failed; retrying', {
      canary: canaryKey,
      attempt: retry.attempts,
      retryInMs: delayMs,
      error: error instanceof Error ? error.message : String(error),
    });
    clearTimeout(retry.timer);
    if (this.stopped || !this.canaries.has(canaryKey)) return;
    retry.timer = setTimeout(() => {
      retry.timer = undefined;
      this.reconcile(canaryKey);
    }, delayMs);
    this.retries.set(canaryKey, retry);
  }

  private succeeded(canaryKey: string): void {
    const retry = this.retries.get(canaryKey);
    if (retry === undefined) return;
    clearTimeout(retry.timer);
    this.retries.delete(canaryKey);
  }

  private onCanary(canary: CanaryObject): void {
    const canaryKey = key(canary.metadata?.namespace, canary.metadata?.name);
    const previous = this.canaries.get(canaryKey);
    this.canaries.set(canaryKey, canary);
    const target = key(canary.metadata?.namespace, canary.spec?.targetRef?.name);
    const previousTarget = previous && key(previous.metadata?.namespace, previous.spec?.targetRef?.name);
    if (previousTarget !== target) {
      if (previousTarget !== undefined) index(this.targets, previousTarget, canaryKey, false);
      index(this.targets, target, canaryKey, true);
    }
    this.options.onCanary?.(canary, previous);
    // Status writes (ours) do not bump the generation; a spec change or a first sight does.
    const specChanged = previous?.metadata?.generation !== canary.metadata?.generation;
    const uidChanged = previous?.metadata?.uid !== canary.metadata?.uid;
    // A retry asks with an annotation, which does not bump the generation either.
    const attemptChanged =
      previous?.metadata?.annotations?.[rolloutAttemptAnnotation] !==
      canary.metadata?.annotations?.[rolloutAttemptAnnotation];
    if (!previous || specChanged || uidChanged || attemptChanged) this.reconcile(canaryKey);
  }

  private onCanaryDeleted(canary: CanaryObject): void {
    const canaryKey = key(canary.metadata?.namespace, canary.metadata?.name);
    const known = this.canaries.get(canaryKey) ?? canary;
    this.canaries.delete(canaryKey);
    index(this.targets, key(known.metadata?.namespace, known.spec?.targetRef?.name), canaryKey, false);
    this.succeeded(canaryKey);
    this.options.lastStarted?.delete(canaryKey);
    const lastReplicas = (namespace: string, name: string): number | undefined =>
      this.replicas.get(key(namespace, name));
    void Promise.resolve(this.options.onCanaryDeleted?.(canary, lastReplicas)).catch((error: unknown) =>
      this.options.log.error('cleanup after canary deletion failed', {
        canary: canaryKey,
        error: String(error),
      }),
    );
  }

  private onDeployment(deployment: Watched): void {
    const deploymentKey = key(deployment.metadata?.namespace, deployment.metadata?.name);
    const replicas = (deployment as k8s.V1Deployment).spec?.replicas;
    if (replicas !== undefined) this.replicas.set(deploymentKey, replicas);
    const generation = deployment.metadata?.generation ?? 0;
    const seen = this.generations.get(deploymentKey);
    if (seen === generation) return; // a status update: no new revision
    this.generations.set(deploymentKey, generation);
    this.indexConfigReaders(deploymentKey, deployment);
    for (const canaryKey of this.targets.get(deploymentKey) ?? []) this.reconcile(canaryKey);
  }

  private onDeploymentDeleted(deployment: Watched): void {
    const deploymentKey = key(deployment.metadata?.namespace, deployment.metadata?.name);
    this.generations.delete(deploymentKey);
    this.indexConfigReaders(deploymentKey, undefined);
    // Deleting a Canary garbage-collects its primary, maybe before the Canary's own delete event is
    // handled, and revertOnDeletion still needs the primary's replicas: they are kept for a while.
    const forget = setTimeout(() => {
      if (!this.generations.has(deploymentKey)) this.replicas.delete(deploymentKey);
    }, this.options.deletedReplicasTtlMs ?? 60_000);
    forget.unref();
  }

  /** Re-indexes the configs a Deployment reads (`undefined`: it is gone). Only a new generation can change them. */
  private indexConfigReaders(deploymentKey: string, deployment: Watched | undefined): void {
    for (const configKey of this.configsRead.get(deploymentKey) ?? []) {
      index(this.configReaders, configKey, deploymentKey, false);
    }
    this.configsRead.delete(deploymentKey);
    if (deployment === undefined) return;
    const refs = referencedConfigs(deployment.spec?.template?.spec);
    const namespace = deployment.metadata?.namespace;
    const configKeys = [
      ...[...refs.configMaps].map((name) => `ConfigMap/${key(namespace, name)}`),
      ...[...refs.secrets].map((name) => `Secret/${key(namespace, name)}`),
    ];
    for (const configKey of configKeys) index(this.configReaders, configKey, deploymentKey, true);
    if (configKeys.length > 0) this.configsRead.set(deploymentKey, configKeys);
  }

  private onConfig(kind: 'ConfigMap' | 'Secret', object: k8s.KubernetesObject): void {
    const readers = this.configReaders.get(
      `${kind}/${key(object.metadata?.namespace, object.metadata?.name)}`,
    );
    for (const deploymentKey of readers ?? []) {
      for (const canaryKey of this.targets.get(deploymentKey) ?? []) this.reconcile(canaryKey);
    }
  }
}
