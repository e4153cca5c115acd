// The worker's copy of the MetricTemplates it may read, kept by one informer, so an analysis tick
// reads its template from memory instead of the API server (as Flagger reads through a lister). While
// the cache is not synced (starting, or its watch dropped) `cached` answers undefined and the tick reads
// the API server, so a template is never missed; a template absent from a synced cache is read too,
// which keeps "not found" the API server's answer.
import * as k8s from '@kubernetes/client-node';

export interface MetricTemplateCacheOptions {
  kubeconfig: k8s.KubeConfig;
  /** Watch one namespace only; all when absent. */
  namespace?: string;
  log: {
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
  };
  /** Before restarting a dropped watch; default 1 s. */
  restartDelayMs?: number;
}

const path = (namespace?: string): string =>
  namespace
    ? `/apis/flagger.app/v1beta1/namespaces/${namespace}/metrictemplates`
    : '/apis/flagger.app/v1beta1/metrictemplates';

export class MetricTemplateCache {
  private readonly options: MetricTemplateCacheOptions;
  private readonly informer: k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject>;
  private synced = false;
  private stopped = false;
  private errors = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Failures in a row: the retry backs off (a CRD that is not installed must not log every second). */
  private failures = 0;

  constructor(options: MetricTemplateCacheOptions) {
    this.options = options;
    const { kubeconfig, namespace } = options;
    const custom = kubeconfig.makeApiClient(k8s.CustomObjectsApi);
    const base = { group: 'flagger.app', version: 'v1beta1', plural: 'metrictemplates' };
    const list = () =>
      (namespace
        ? custom.listNamespacedCustomObject({ ...base, namespace })
        : custom.listClusterCustomObject(base)) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>;
    this.informer = k8s.makeInformer<k8s.KubernetesObject>(kubeconfig, path(namespace), list);
    this.informer.on('error', (error: unknown) => {
      this.synced = false;
      this.errors += 1;
      if (this.stopped) return;
      this.options.log.warn(
        'MetricTemplate watch dropped; analysis ticks read the API server until it is back',
        {
          error: String(error),
        },
      );
      this.restartTimer = setTimeout(() => void this.connect(), this.options.restartDelayMs ?? 1000);
    });
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.synced = false;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  /** The template as last seen, or undefined when the cache cannot say (not synced, not covered, absent). */
  cached(namespace: string, name: string): unknown {
    if (!this.synced) return undefined;
    if (this.options.namespace !== undefined && this.options.namespace !== namespace) return undefined;
    return this.informer.get(name, namespace);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const errorsBefore = this.errors;
    try {
      await this.informer.start();
    } catch (error) {
      this.retryLater('MetricTemplate watch failed to start; analysis ticks read the API server', error);
      return;
    }
    if (this.errors !== errorsBefore || this.stopped) return;
    this.synced = true;
    this.failures = 0;
  }

  /** Says so on the first failure of a run of them, and tries again ever later (up to a minute). */
  private retryLater(message: string, error: unknown): void {
    if (this.failures === 0) this.options.log.warn(message, { error: String(error) });
    this.failures += 1;
    const delay = Math.min(60_000, (this.options.restartDelayMs ?? 1000) * 2 ** (this.failures - 1));
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.connect(), delay);
  }
}
