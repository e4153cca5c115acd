// One Deployment informer per worker process: the revision watcher reacts to its events, and every
// readiness wait of every rollout blocks on it until the Deployment it waits for changes, instead of
// asking the API server every 250 ms per rollout. While the watch is down (not yet listed, or dropped
// and restarting) the cache says it is not synced and the waits read the API server directly.
import * as k8s from '@kubernetes/client-node';
import type { DeploymentWatch } from '../activities/kubernetes.ts';

export interface DeploymentCacheLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface DeploymentCacheOptions {
  kubeconfig: k8s.KubeConfig;
  /** Watch one namespace only; all when absent. */
  namespace?: string;
  log: DeploymentCacheLogger;
  /** Before restarting a dropped watch; default 1 s. */
  restartDelayMs?: number;
}

type Handler = (deployment: k8s.V1Deployment) => void;

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

export class DeploymentCache implements DeploymentWatch {
  private readonly options: DeploymentCacheOptions;
  private readonly informer: k8s.Informer<k8s.V1Deployment> & k8s.ObjectCache<k8s.V1Deployment>;
  private synced = false;
  private stopped = false;
  /** Counts the informer's errors: a start that saw one did not sync (the informer does not throw). */
  private errors = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Deployment key → wake-ups of the waits blocked on it. */
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(options: DeploymentCacheOptions) {
    this.options = options;
    const { kubeconfig, namespace } = options;
    const apps = kubeconfig.makeApiClient(k8s.AppsV1Api);
    this.informer = k8s.makeInformer<k8s.V1Deployment>(
      kubeconfig,
      namespace ? `/apis/apps/v1/namespaces/${namespace}/deployments` : '/apis/apps/v1/deployments',
      () =>
        namespace ? apps.listNamespacedDeployment({ namespace }) : apps.listDeploymentForAllNamespaces(),
    );
    const wake = (deployment: k8s.V1Deployment): void =>
      this.wake(deployment.metadata?.namespace ?? '', deployment.metadata?.name ?? '');
    this.informer.on('add', wake);
    this.informer.on('update', wake);
    this.informer.on('delete', wake);
    this.informer.on('error', (error: unknown) => {
      this.synced = false;
      this.errors += 1;
      if (this.stopped) return;
      this.options.log.warn(
        'Deployment watch dropped; readiness waits read the API server until it is back',
        {
          error: String(error),
        },
      );
      this.restartTimer = setTimeout(() => void this.connect(), this.options.restartDelayMs ?? 1000);
    });
  }

  /** Lists and starts watching; resolves once the cache holds every Deployment. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.synced = false;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
    for (const wakeups of this.waiters.values()) for (const wake of wakeups) wake();
    this.waiters.clear();
  }

  /** Subscribes to the informer's events (the watcher); handlers run for the initial list too. */
  on(event: 'add' | 'update' | 'delete', handler: Handler): void {
    this.informer.on(event, handler);
  }

  list(): readonly k8s.V1Deployment[] {
    return this.informer.list();
  }

  /** Whether the cache is synced and covers this namespace. */
  covers(namespace: string): boolean {
    return this.synced && (this.options.namespace === undefined || this.options.namespace === namespace);
  }

  cached(namespace: string, name: string): { deployment: k8s.V1Deployment | undefined } | undefined {
    if (!this.covers(namespace)) return undefined;
    return { deployment: this.informer.get(name, namespace) };
  }

  nextChange(namespace: string, name: string, timeoutMs: number): { changed: Promise<void>; cancel(): void } {
    const deploymentKey = key(namespace, name);
    let wakeups = this.waiters.get(deploymentKey);
    if (wakeups === undefined) this.waiters.set(deploymentKey, (wakeups = new Set()));
    const set = wakeups;
    let timer: NodeJS.Timeout | undefined;
    let done: () => void = () => undefined;
    const changed = new Promise<void>((resolve) => {
      done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(deploymentKey) === set) this.waiters.delete(deploymentKey);
        resolve();
      };
      timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
    return { changed, cancel: done };
  }

  /** Waits blocked right now (for tests: none may be left behind). */
  get waiting(): number {
    let count = 0;
    for (const wakeups of this.waiters.values()) count += wakeups.size;
    return count;
  }

  private wake(namespace: string, name: string): void {
    const wakeups = this.waiters.get(key(namespace, name));
    if (wakeups === undefined) return;
    for (const wake of [...wakeups]) wake();
  }

  /** Lists and watches; a failure is reported through the 'error' event, which schedules a retry. */
  private async connect(): Promise<void> {
    if (this.stopped) return;
    const errorsBefore = this.errors;
    const restart = errorsBefore > 0;
    try {
      await this.informer.start();
    } catch (error) {
      this.options.log.warn('Deployment watch failed to start; retrying', { error: String(error) });
      this.restartTimer = setTimeout(() => void this.connect(), this.options.restartDelayMs ?? 1000);
      return;
    }
    if (this.errors !== errorsBefore || this.stopped) return;
    this.synced = true;
    if (restart) this.options.log.info('Deployment watch restarted');
  }
}
