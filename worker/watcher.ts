// The revision watcher: informers (watches, not polls) on Canaries, their target Deployments and the
// ConfigMaps and Secrets those read. Any change that can make a new revision reconciles the canaries
// it concerns, one at a time per canary; reconcile itself decides whether anything starts.
import * as k8s from '@kubernetes/client-node';
import type { PodSpecConfigRefs } from '../canary/revision.ts';
import { referencedConfigs } from '../canary/revision.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { reconcileCanary } from './reconcile.ts';
import type { ReconcileDeps, ReconcileOutcome } from './reconcile.ts';

export interface WatcherLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface WatcherOptions extends ReconcileDeps {
  kubeconfig: k8s.KubeConfig;
  /** Watch one namespace only; all when absent. */
  namespace?: string;
  log: WatcherLogger;
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

export class RevisionWatcher {
  private readonly options: WatcherOptions;
  private readonly canaries = new Map<string, CanaryObject>();
  /** Deployment key → the generation last seen, so status-only updates are ignored. */
  private readonly generations = new Map<string, number>();
  /** Deployment key → its replicas as last seen. */
  private readonly replicas = new Map<string, number>();
  /** `ConfigMap/ns/name` or `Secret/ns/name` → target Deployment keys that read it. */
  private readonly configReaders = new Map<string, Set<string>>();
  private readonly informers: k8s.Informer<k8s.KubernetesObject>[] = [];
  private readonly queue: KeyedQueue;
  private stopped = false;

  constructor(options: WatcherOptions) {
    this.options = options;
    this.queue = new KeyedQueue((canary, error) =>
      options.log.error('reconcile failed; retrying on the next change or resync', {
        canary,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }

  async start(): Promise<void> {
    const { kubeconfig, namespace } = this.options;
    const custom = kubeconfig.makeApiClient(k8s.CustomObjectsApi);
    const apps = kubeconfig.makeApiClient(k8s.AppsV1Api);
    const core = kubeconfig.makeApiClient(k8s.CoreV1Api);
    const scoped = (path: string, group: string): string =>
      namespace ? `${group}/namespaces/${namespace}/${path}` : `${group}/${path}`;

    const canaryInformer = k8s.makeInformer<CanaryObject>(
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
    const deploymentInformer = k8s.makeInformer<k8s.V1Deployment>(
      kubeconfig,
      scoped('deployments', '/apis/apps/v1'),
      () =>
        namespace ? apps.listNamespacedDeployment({ namespace }) : apps.listDeploymentForAllNamespaces(),
    );
    const configMapInformer = k8s.makeInformer<k8s.V1ConfigMap>(
      kubeconfig,
      scoped('configmaps', '/api/v1'),
      () => (namespace ? core.listNamespacedConfigMap({ namespace }) : core.listConfigMapForAllNamespaces()),
    );
    const secretInformer = k8s.makeInformer<k8s.V1Secret>(kubeconfig, scoped('secrets', '/api/v1'), () =>
      namespace ? core.listNamespacedSecret({ namespace }) : core.listSecretForAllNamespaces(),
    );

    canaryInformer.on('add', (canary) => this.onCanary(canary));
    canaryInformer.on('update', (canary) => this.onCanary(canary));
    canaryInformer.on('delete', (canary) => this.onCanaryDeleted(canary));
    deploymentInformer.on('add', (d) => this.onDeployment(d));
    deploymentInformer.on('update', (d) => this.onDeployment(d));
    for (const [kind, informer] of [
      ['ConfigMap', configMapInformer],
      ['Secret', secretInformer],
    ] as const) {
      const onConfig = (object: k8s.KubernetesObject): void => this.onConfig(kind, object);
      (informer as k8s.Informer<k8s.KubernetesObject>).on('update', onConfig);
      (informer as k8s.Informer<k8s.KubernetesObject>).on('add', onConfig);
    }

    // Deployments first, so the config index exists when the first canaries are reconciled.
    for (const informer of [
      deploymentInformer,
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
    }
    this.options.log.info('revision watcher started', {
      canaries: this.canaries.size,
      namespace: namespace ?? 'all',
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const informer of this.informers) await informer.stop();
    await this.queue.idle();
  }

  /** Resolves when every reconcile asked for so far has run (tests and benchmarks wait on it). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private reconcile(canaryKey: string): void {
    void this.queue.enqueue(canaryKey, async () => {
      const canary = this.canaries.get(canaryKey);
      if (!canary || this.stopped) return;
      const outcome = await reconcileCanary(canary, this.options);
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

  private onCanary(canary: CanaryObject): void {
    const canaryKey = key(canary.metadata?.namespace, canary.metadata?.name);
    const previous = this.canaries.get(canaryKey);
    this.canaries.set(canaryKey, canary);
    this.options.onCanary?.(canary, previous);
    // Status writes (ours) do not bump the generation; a spec change or a first sight does.
    const specChanged = previous?.metadata?.generation !== canary.metadata?.generation;
    const uidChanged = previous?.metadata?.uid !== canary.metadata?.uid;
    if (!previous || specChanged || uidChanged) this.reconcile(canaryKey);
  }

  private onCanaryDeleted(canary: CanaryObject): void {
    const canaryKey = key(canary.metadata?.namespace, canary.metadata?.name);
    this.canaries.delete(canaryKey);
    const lastReplicas = (namespace: string, name: string): number | undefined =>
      this.replicas.get(key(namespace, name));
    void Promise.resolve(this.options.onCanaryDeleted?.(canary, lastReplicas)).catch((error: unknown) =>
      this.options.log.error('cleanup after canary deletion failed', {
        canary: canaryKey,
        error: String(error),
      }),
    );
  }

  private canariesTargeting(deploymentKey: string): string[] {
    const found: string[] = [];
    for (const [canaryKey, canary] of this.canaries) {
      if (key(canary.metadata?.namespace, canary.spec?.targetRef?.name) === deploymentKey)
        found.push(canaryKey);
    }
    return found;
  }

  private onDeployment(deployment: Watched): void {
    const deploymentKey = key(deployment.metadata?.namespace, deployment.metadata?.name);
    const generation = deployment.metadata?.generation ?? 0;
    const seen = this.generations.get(deploymentKey);
    this.generations.set(deploymentKey, generation);
    const replicas = (deployment as k8s.V1Deployment).spec?.replicas;
    if (replicas !== undefined) this.replicas.set(deploymentKey, replicas);
    this.indexConfigReaders(deploymentKey, deployment);
    if (seen === generation) return; // a status update: no new revision
    for (const canaryKey of this.canariesTargeting(deploymentKey)) this.reconcile(canaryKey);
  }

  private indexConfigReaders(deploymentKey: string, deployment: Watched): void {
    for (const readers of this.configReaders.values()) readers.delete(deploymentKey);
    const refs = referencedConfigs(deployment.spec?.template?.spec);
    const namespace = deployment.metadata?.namespace;
    for (const [kind, names] of [
      ['ConfigMap', refs.configMaps],
      ['Secret', refs.secrets],
    ] as const) {
      for (const name of names) {
        const configKey = `${kind}/${key(namespace, name)}`;
        let readers = this.configReaders.get(configKey);
        if (!readers) this.configReaders.set(configKey, (readers = new Set()));
        readers.add(deploymentKey);
      }
    }
  }

  private onConfig(kind: 'ConfigMap' | 'Secret', object: k8s.KubernetesObject): void {
    const readers = this.configReaders.get(
      `${kind}/${key(object.metadata?.namespace, object.metadata?.name)}`,
    );
    for (const deploymentKey of readers ?? []) {
      for (const canaryKey of this.canariesTargeting(deploymentKey)) this.reconcile(canaryKey);
    }
  }
}
