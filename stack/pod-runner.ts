// The local pod runner: for every running pod of a known image (podinfo, and Cutover's own worker,
// see stack/worker-pod.ts) on the local cluster it starts the real program on 127.0.0.1, stops it when the pod goes away, registers it with
// Prometheus (file-based discovery) and keeps a map from `<service>.<namespace>` to local addresses,
// each Service with a stable loopback proxy. KWOK pods serve nothing by themselves; this is the
// kubelet they are missing, and the proxies are its kube-proxy: a Service follows its selector (or,
// without one, its EndpointSlices) as they change, new connections going to the new endpoints at once
// while established ones run to their end.
import * as k8s from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { writeServiceAccountKubeconfig } from './pod-credentials.ts';
import { writeVolumeMounts } from './pod-volumes.ts';
import { expandVariables, localCommand, podinfoImage } from './pod-process.ts';
import type { LocalImage } from './pod-process.ts';
import { serviceEndpoints, sliceEndpoints } from './service-endpoints.ts';
import type { EndpointSliceInput, RunningPod, ServiceInput } from './service-endpoints.ts';
import { ServiceProxy, freeLocalPort } from './tcp-proxy.ts';
import { prometheusTargetsDir } from './prometheus.ts';
import { repoRoot, toolPath } from './tools.ts';
import { cutoverImagePattern, workerPodCommand } from './worker-pod.ts';

interface LocalPod extends RunningPod {
  uid: string;
  process: ChildProcess;
  metricsPort: number;
}

export interface ServiceMapEntry {
  /** Stable loopback address of the Service port (a proxy over the endpoints). */
  address: string;
  port: number;
  endpoints: string[];
}

/** The file the pod runner writes: `<service>.<namespace>` → port name (or number) → entry. */
export type ServiceMap = Record<string, Record<string, ServiceMapEntry>>;

/** The map as last written (empty before the pod runner's first write). */
export function readServiceMap(servicesFile: string): ServiceMap {
  try {
    return JSON.parse(readFileSync(servicesFile, 'utf8')) as ServiceMap;
  } catch {
    return {};
  }
}

const images: LocalImage[] = [podinfoImage];

function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'pod-runner', message, ...fields })}\n`,
  );
}

function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export class PodRunner {
  private readonly pods = new Map<string, LocalPod>();
  private readonly starting = new Set<string>();
  /** Pods this runner cannot run (their Warning says why); asked again only when re-created. */
  private readonly refused = new Set<string>();
  private readonly services = new Map<string, ServiceInput>();
  private readonly slices = new Map<string, EndpointSliceInput>();
  private readonly proxies = new Map<string, ServiceProxy>();
  /** The service map as last computed, per Service; only Services of changed namespaces are redone. */
  private readonly entries = new Map<string, Record<string, ServiceMapEntry>>();
  /** Namespaces whose Services must be recomputed (undefined: all of them). */
  private dirtyNamespaces: Set<string> | undefined = undefined;
  private podsChanged = true;
  /** A rewrite that has not started yet: later changes join it instead of queueing their own. */
  private pendingPublish: Promise<void> | undefined;
  private lastPublish: Promise<void> = Promise.resolve();
  private lastRewriteMs = 0;
  private readonly core: k8s.CoreV1Api;
  private readonly informers: k8s.Informer<k8s.KubernetesObject>[] = [];
  private readonly stateDir: string;
  private readonly servicesFile: string;
  private readonly kubeconfig: k8s.KubeConfig;

  constructor(kubeconfig: k8s.KubeConfig, stateDir: string, servicesFile: string) {
    this.kubeconfig = kubeconfig;
    this.core = kubeconfig.makeApiClient(k8s.CoreV1Api);
    this.stateDir = stateDir;
    this.servicesFile = servicesFile;
    mkdirSync(prometheusTargetsDir(stateDir), { recursive: true });
    mkdirSync(join(stateDir, 'pods'), { recursive: true });
  }

  async start(): Promise<void> {
    const podInformer = k8s.makeInformer(this.kubeconfig, '/api/v1/pods', () =>
      this.core.listPodForAllNamespaces(),
    );
    const serviceInformer = k8s.makeInformer(this.kubeconfig, '/api/v1/services', () =>
      this.core.listServiceForAllNamespaces(),
    );
    const discovery = this.kubeconfig.makeApiClient(k8s.DiscoveryV1Api);
    const sliceInformer = k8s.makeInformer(this.kubeconfig, '/apis/discovery.k8s.io/v1/endpointslices', () =>
      discovery.listEndpointSliceForAllNamespaces(),
    );
    const onSlice = (slice: k8s.V1EndpointSlice): void => {
      this.slices.set(`${slice.metadata?.namespace}/${slice.metadata?.name}`, toSliceInput(slice));
      void this.changed(slice.metadata?.namespace);
    };
    sliceInformer.on('add', onSlice);
    sliceInformer.on('update', onSlice);
    sliceInformer.on('delete', (slice) => {
      this.slices.delete(`${slice.metadata?.namespace}/${slice.metadata?.name}`);
      void this.changed(slice.metadata?.namespace);
    });
    const onPod = (pod: k8s.V1Pod): void => void this.reconcilePod(pod);
    podInformer.on('add', onPod);
    podInformer.on('update', onPod);
    podInformer.on('delete', (pod) => {
      this.refused.delete(pod.metadata?.uid ?? '');
      void this.stopPod(pod.metadata?.uid ?? '');
      // As a kubelet forgets a deleted pod's logs.
      rmSync(this.podLogFile(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? ''), {
        force: true,
      });
    });
    const onService = (svc: k8s.V1Service): void => {
      this.services.set(`${svc.metadata?.name}.${svc.metadata?.namespace}`, toServiceInput(svc));
      void this.changed(svc.metadata?.namespace);
    };
    serviceInformer.on('add', onService);
    serviceInformer.on('update', onService);
    serviceInformer.on('delete', (svc) => {
      this.services.delete(`${svc.metadata?.name}.${svc.metadata?.namespace}`);
      void this.changed(svc.metadata?.namespace);
    });
    for (const informer of [
      podInformer,
      serviceInformer,
      sliceInformer,
    ] as k8s.Informer<k8s.KubernetesObject>[]) {
      // A dropped watch (apiserver restart) is retried rather than ending the runner.
      informer.on('error', () => setTimeout(() => void informer.start(), 1000));
      this.informers.push(informer);
      await informer.start();
    }
    await this.changed(undefined, { pods: true });
    log('pod runner started');
  }

  async stop(): Promise<void> {
    for (const informer of this.informers) await informer.stop();
    for (const uid of [...this.pods.keys()]) await this.stopPod(uid);
    for (const proxy of this.proxies.values()) proxy.close();
  }

  private async reconcilePod(pod: k8s.V1Pod): Promise<void> {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const gone =
      pod.metadata?.deletionTimestamp !== undefined ||
      ['Succeeded', 'Failed'].includes(pod.status?.phase ?? '');
    if (gone) {
      await this.stopPod(uid);
      return;
    }
    const existing = this.pods.get(uid);
    if (existing) {
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const labels = pod.metadata?.labels ?? {};
      if (JSON.stringify(labels) !== JSON.stringify(existing.labels)) {
        // Relabelling a pod moves it in or out of Services, as it would with kube-proxy.
        existing.labels = labels;
        void this.changed(existing.namespace, { pods: true });
      }
      if (existing.ready !== ready && (await portOpen(existing.metricsPort))) {
        existing.ready = ready;
        await this.changed(existing.namespace, { pods: true });
      }
      return;
    }
    if (pod.status?.phase !== 'Running' || this.starting.has(uid) || this.refused.has(uid)) return;
    const container = pod.spec?.containers.find((c) => images.some((i) => i.image.test(c.image ?? '')));
    const image = images.find((i) => i.image.test(container?.image ?? ''));
    const worker = pod.spec?.containers.find((c) => cutoverImagePattern.test(c.image ?? ''));
    if (!(container && image) && !worker) return;
    this.starting.add(uid);
    try {
      if (container && image) await this.startPod(pod, container, image);
      else if (worker) await this.startWorkerPod(pod, worker);
    } catch (error) {
      log('could not start pod process', {
        pod: pod.metadata?.name,
        namespace: pod.metadata?.namespace,
        error: String(error),
      });
    } finally {
      this.starting.delete(uid);
    }
  }

  private async startPod(pod: k8s.V1Pod, container: k8s.V1Container, image: LocalImage): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    const env = await this.containerEnv(pod, container);
    const free = await Promise.all(Object.keys(image.portFlags).map(() => freeLocalPort()));
    const command = localCommand(
      image,
      {
        image: container.image ?? '',
        command: container.command?.map((a) => expandVariables(a, env)),
        args: container.args?.map((a) => expandVariables(a, env)),
      },
      () => free.shift() ?? 0,
    );
    const workdir = join(this.stateDir, 'pods', uid);
    mkdirSync(workdir, { recursive: true });
    const child = spawn(toolPath(image.binary as 'podinfo'), command.args, {
      cwd: workdir,
      env: { PATH: process.env.PATH, HOME: workdir, HOSTNAME: name, ...env },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    await this.track(pod, container, child, command.ports, command.metricsPort, 15_000, {
      ...(command.unserved.length > 0 ? { unserved: command.unserved } : {}),
    });
  }

  /**
   * Keeps a started pod process: its ports join the Services and Prometheus once its metrics port
   * answers (within `startMs`) and the pod is Ready; an exit takes it out again.
   */
  private async track(
    pod: k8s.V1Pod,
    container: k8s.V1Container,
    child: ChildProcess,
    ports: Map<number, number>,
    metricsPort: number,
    startMs: number,
    fields: Record<string, unknown> = {},
  ): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    const namedPorts = new Map<string, number>();
    for (const port of container.ports ?? []) if (port.name) namedPorts.set(port.name, port.containerPort);
    const local: LocalPod = {
      uid,
      namespace,
      name,
      labels: pod.metadata?.labels ?? {},
      ports,
      namedPorts,
      ready: false,
      process: child,
      metricsPort,
    };
    this.pods.set(uid, local);
    child.on('exit', (code) => {
      if (this.pods.get(uid) === local) {
        log('pod process exited', { pod: name, namespace, code });
        local.ready = false;
        void this.changed(namespace, { pods: true });
      }
    });
    const deadline = Date.now() + startMs;
    while (!(await portOpen(metricsPort)) && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    local.ready =
      child.exitCode === null &&
      (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
    log('pod process started', {
      pod: name,
      namespace,
      pid: child.pid,
      ports: Object.fromEntries(ports),
      ...fields,
    });
    await this.changed(namespace, { pods: true });
  }

  /**
   * A pod of the Cutover image, run as a local `cutover worker` (stack/worker-pod.ts): its args and env,
   * its mounts, a token of its ServiceAccount. Its output goes to `logs/pods/<namespace>_<pod>.log`,
   * as `kubectl logs` would show it. A pod that cannot run here gets a Warning event saying why.
   */
  private async startWorkerPod(pod: k8s.V1Pod, container: k8s.V1Container): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    const workdir = join(this.stateDir, 'pods', uid);
    mkdirSync(workdir, { recursive: true, mode: 0o700 });
    const env = await this.containerEnv(pod, container);
    const mounts = await writeVolumeMounts(pod, container, workdir, {
      configMap: (n) => this.readConfigMap(namespace, n),
      secret: (n) => this.readSecret(namespace, n),
    });
    const kubeconfig = await writeServiceAccountKubeconfig(
      this.kubeconfig,
      { namespace, name, uid, serviceAccount: pod.spec?.serviceAccountName ?? 'default' },
      workdir,
    );
    // One each for the metrics, SDK metrics and codec ports the worker may listen on.
    const free = await Promise.all([0, 1, 2].map(() => freeLocalPort()));
    const command = workerPodCommand({
      ...(container.command ? { command: container.command } : {}),
      args: (container.args ?? []).map((a) => expandVariables(a, env)),
      env,
      mounts,
      kubeconfig,
      namespace,
      serviceAddress: (service, ns, port) =>
        Object.values(this.entries.get(`${service}.${ns}`) ?? {}).find((e) => e.port === port)?.address,
      freePort: () => free.shift() ?? 0,
    });
    if (!command.ok) {
      this.refused.add(uid);
      rmSync(workdir, { recursive: true, force: true });
      log('pod not run here', { pod: name, namespace, reason: command.reason });
      await this.warnOnPod(
        pod,
        'NotRunLocally',
        `The local pod runner does not run this pod: ${command.reason}`,
      );
      return;
    }
    const logFile = this.podLogFile(namespace, name);
    mkdirSync(dirname(logFile), { recursive: true });
    const output = openSync(logFile, 'a');
    const child = spawn(process.execPath, [join(repoRoot, 'client', 'cli.ts'), ...command.args], {
      cwd: workdir,
      env: { PATH: process.env.PATH, HOME: workdir, HOSTNAME: name, ...command.env },
      stdio: ['ignore', output, output],
    });
    closeSync(output);
    await this.track(pod, container, child, command.ports, command.metricsPort, 60_000, {
      image: container.image,
    });
  }

  /** Where a worker pod's output goes: `logs/pods/<namespace>_<pod>.log`, as `kubectl logs` would show it. */
  private podLogFile(namespace: string, name: string): string {
    return join(this.stateDir, 'logs', 'pods', `${namespace}_${name}.log`);
  }

  /** A Warning event on the pod, as the kubelet writes when it cannot start a container. */
  private async warnOnPod(pod: k8s.V1Pod, reason: string, message: string): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const now = new Date();
    await this.core
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${pod.metadata?.name}.` },
          involvedObject: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: pod.metadata?.name,
            namespace,
            uid: pod.metadata?.uid,
          },
          type: 'Warning',
          reason,
          message,
          source: { component: 'cutover-pod-runner' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      })
      .catch((error: unknown) => log('could not write an event', { error: String(error) }));
  }

  private async stopPod(uid: string): Promise<void> {
    const pod = this.pods.get(uid);
    if (!pod) return;
    this.pods.delete(uid);
    pod.process.kill('SIGTERM');
    rmSync(join(this.stateDir, 'pods', uid), { recursive: true, force: true });
    log('pod process stopped', { pod: pod.name, namespace: pod.namespace });
    await this.changed(pod.namespace, { pods: true });
  }

  /** The container's environment as a kubelet resolves it: values, ConfigMap/Secret refs, field refs. */
  private async containerEnv(pod: k8s.V1Pod, container: k8s.V1Container): Promise<Record<string, string>> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      const data = source.configMapRef?.name
        ? ((await this.readConfigMap(namespace, source.configMapRef.name)) ?? {})
        : source.secretRef?.name
          ? ((await this.readSecret(namespace, source.secretRef.name)) ?? {})
          : {};
      for (const [key, value] of Object.entries(data)) env[`${source.prefix ?? ''}${key}`] = value;
    }
    for (const variable of container.env ?? []) {
      const from = variable.valueFrom;
      let value: string | undefined =
        variable.value !== undefined ? expandVariables(variable.value, env) : undefined;
      if (from?.configMapKeyRef) {
        value = (await this.readConfigMap(namespace, from.configMapKeyRef.name ?? ''))?.[
          from.configMapKeyRef.key
        ];
      } else if (from?.secretKeyRef) {
        value = (await this.readSecret(namespace, from.secretKeyRef.name ?? ''))?.[from.secretKeyRef.key];
      } else if (from?.fieldRef) {
        const path = from.fieldRef.fieldPath;
        value =
          path === 'metadata.name'
            ? pod.metadata?.name
            : path === 'metadata.namespace'
              ? namespace
              : path === 'status.podIP'
                ? '127.0.0.1'
                : undefined;
      }
      if (value !== undefined) env[variable.name] = value;
    }
    return env;
  }

  private async readConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.core.readNamespacedConfigMap({ name, namespace })).data ?? {};
    } catch {
      return undefined;
    }
  }

  private async readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const data = (await this.core.readNamespacedSecret({ name, namespace })).data ?? {};
      return Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
    } catch {
      return undefined;
    }
  }

  /** Notes what changed (undefined namespace: everything) and publishes it. */
  private changed(namespace: string | undefined, what: { pods?: boolean } = {}): Promise<void> {
    if (what.pods) this.podsChanged = true;
    if (namespace === undefined) this.dirtyNamespaces = undefined;
    else this.dirtyNamespaces?.add(namespace);
    return this.publish();
  }

  /**
   * Rewrites Prometheus' target file, the Service proxies' endpoints and the service map from the
   * current pods, Services and EndpointSlices. A burst of changes costs one rewrite: calls made while
   * one waits to start share it, and a rewrite waits twice as long as the last one took (at least
   * 10 ms) before it starts, so thousands of Services created at once do not keep a core busy.
   * Resolves once a rewrite that saw the caller's change has finished.
   */
  private publish(): Promise<void> {
    if (this.pendingPublish) return this.pendingPublish;
    const next = this.lastPublish.then(async () => {
      await new Promise((r) => setTimeout(r, Math.max(10, 2 * this.lastRewriteMs)));
      this.pendingPublish = undefined;
      const began = Date.now();
      try {
        await this.rewrite();
      } catch (error) {
        log('could not publish the service map', { error: String(error) });
      }
      this.lastRewriteMs = Date.now() - began;
    });
    this.pendingPublish = next;
    this.lastPublish = next;
    return next;
  }

  private async rewrite(): Promise<void> {
    const pods = [...this.pods.values()];
    if (this.podsChanged) {
      this.podsChanged = false;
      const targets = pods
        .filter((p) => p.ready)
        .map((p) => ({
          targets: [`127.0.0.1:${p.metricsPort}`],
          labels: {
            ...Object.fromEntries(
              Object.entries(p.labels).map(([k, v]) => [k.replace(/[^a-zA-Z0-9_]/g, '_'), v]),
            ),
            kubernetes_namespace: p.namespace,
            kubernetes_pod_name: p.name,
          },
        }));
      writeAtomically(
        join(prometheusTargetsDir(this.stateDir), 'pods.json'),
        JSON.stringify(targets, null, 2),
      );
    }

    const dirty = this.dirtyNamespaces;
    this.dirtyNamespaces = new Set();
    const podsByNamespace = groupBy(pods, (p) => p.namespace);
    const slicesByService = groupBy([...this.slices.values()], (s) => `${s.serviceName}.${s.namespace}`);
    const liveProxies = new Set<string>();
    for (const [key, service] of this.services) {
      const known = this.entries.get(key);
      if (known && dirty && !dirty.has(service.namespace)) {
        for (const port of service.ports) liveProxies.add(`${key}:${port.port}`);
        continue;
      }
      const inNamespace = podsByNamespace.get(service.namespace) ?? [];
      const selectorless = Object.keys(service.selector ?? {}).length === 0;
      const entries: Record<string, ServiceMapEntry> = {};
      for (const port of service.ports) {
        const endpoints = selectorless
          ? sliceEndpoints(service, port, slicesByService.get(key) ?? [], inNamespace)
          : serviceEndpoints(service, port, inNamespace);
        const proxyKey = `${key}:${port.port}`;
        liveProxies.add(proxyKey);
        let proxy = this.proxies.get(proxyKey);
        if (!proxy) {
          proxy = await ServiceProxy.listen();
          this.proxies.set(proxyKey, proxy);
        }
        proxy.setEndpoints(endpoints);
        entries[port.name ?? String(port.port)] = { address: proxy.address, port: port.port, endpoints };
      }
      this.entries.set(key, entries);
    }
    for (const key of this.entries.keys()) if (!this.services.has(key)) this.entries.delete(key);
    // Proxies of deleted Services and of ports a Service no longer has stop accepting.
    for (const [proxyKey, proxy] of this.proxies) {
      if (!liveProxies.has(proxyKey)) {
        this.proxies.delete(proxyKey);
        proxy.close();
      }
    }
    writeAtomically(this.servicesFile, JSON.stringify(Object.fromEntries(this.entries), null, 2));
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function toSliceInput(slice: k8s.V1EndpointSlice): EndpointSliceInput {
  return {
    namespace: slice.metadata?.namespace ?? 'default',
    serviceName: slice.metadata?.labels?.['kubernetes.io/service-name'] ?? '',
    ports: (slice.ports ?? []).map((p) => ({ name: p.name, port: p.port })),
    endpoints: (slice.endpoints ?? []).map((e) => ({
      // As kube-proxy: an endpoint without a ready condition counts as ready.
      ready: e.conditions?.ready !== false,
      pod: e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined,
    })),
  };
}

function toServiceInput(svc: k8s.V1Service): ServiceInput {
  return {
    namespace: svc.metadata?.namespace ?? 'default',
    name: svc.metadata?.name ?? '',
    selector: svc.spec?.selector,
    ports: (svc.spec?.ports ?? []).map((p) => ({
      name: p.name,
      port: p.port,
      targetPort: p.targetPort as number | string | undefined,
    })),
  };
}
