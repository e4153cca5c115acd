// How the pod runner runs a pod of the Cutover image (the chart's or deploy/'s worker) as a local
// `cutover worker` process, as a kubelet would run its container: the image's entrypoint
// (`node client/cli.ts`, from this checkout) with the container's args and env, and four changes a
// node would not need.
// - Every listening port moves to a free port on 127.0.0.1 (pod IPs are not on this machine).
// - The cluster is reached with a kubeconfig holding a token of the pod's ServiceAccount (TokenRequest,
//   bound to the pod), so the worker has exactly the RBAC its manifests grant.
// - An address it dials (TEMPORAL_ADDRESS, PROMETHEUS_URL, or their flags) must be loopback or a Service
//   of the local cluster, which is replaced by that Service's loopback proxy. Anything else is refused,
//   with the variable and the fix: the network rule of this machine is loopback only.
// - Files of Secret and ConfigMap volumes are written under the pod's directory, and values that name a
//   mount path are moved there.

import { extractFlags } from './pod-process.ts';

/** Which images are Cutover's: the chart's default `cutover`, and any `<registry>/…/cutover`. */
export const cutoverImagePattern = /(^|\/)cutover(:|@|$)/;

export interface WorkerPodInput {
  /** The container's command: the image's entrypoint is kept only when it is not overridden. */
  command?: string[];
  args: string[];
  /** The container's env, resolved (values, ConfigMap and Secret refs, field refs). */
  env: Record<string, string>;
  /** Where each volume mount's files were written on this machine. */
  mounts: { mountPath: string; localPath: string }[];
  kubeconfig: string;
  /** The pod's namespace, for Service names without one. */
  namespace: string;
  /** The loopback address (`127.0.0.1:port`) of a local Service's port, if it exists. */
  serviceAddress(service: string, namespace: string, port: number): string | undefined;
  freePort(): number;
}

export type WorkerPodCommand =
  | {
      ok: true;
      /** What follows `node client/cli.ts`. */
      args: string[];
      env: Record<string, string>;
      /** container port → local port on 127.0.0.1 */
      ports: Map<number, number>;
      /** The local port of /metrics, /healthz and /readyz. */
      metricsPort: number;
    }
  | { ok: false; reason: string };

/** Flags whose value is a port or an address the runner chooses here. */
const placedFlags = ['metrics-port', 'sdk-metrics-port', 'metrics-address', 'codec-port', 'codec-address'];

const loopback = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** `svc`, `svc.ns`, `svc.ns.svc` or `svc.ns.svc.cluster.local`: a Service's DNS name, split. */
function serviceOfHost(host: string, namespace: string): { service: string; namespace: string } | undefined {
  const match = /^([a-z0-9-]+)(?:\.([a-z0-9-]+)(?:\.svc(?:\.cluster\.local)?)?)?\.?$/.exec(host);
  if (!match?.[1]) return undefined;
  return { service: match[1], namespace: match[2] ?? namespace };
}

type Placed = { ok: true; value: string } | { ok: false; reason: string };

/** Where a `host:port` the worker dials goes here (`127.0.0.1:port`), or why it cannot. */
function localAddress(what: string, host: string, port: number, input: WorkerPodInput): Placed {
  if (loopback.has(host)) return { ok: true, value: `${host}:${port}` };
  const service = serviceOfHost(host, input.namespace);
  const address = service && input.serviceAddress(service.service, service.namespace, port);
  if (address) return { ok: true, value: address };
  return {
    ok: false,
    reason:
      `${what} names ${host}:${port}, which is neither 127.0.0.1 nor a Service of this cluster` +
      `${service ? ` (no Service ${service.service} in ${service.namespace} with port ${port})` : ''}; ` +
      'this machine dials loopback only: set it to the local address (127.0.0.1:PORT), or create that Service',
  };
}

/** A Temporal frontend `host[:port]`, placed here. */
function placeTemporal(what: string, value: string, input: WorkerPodInput): Placed {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value);
  if (!match?.[1]) return { ok: false, reason: `${what} "${value}" is not host:port` };
  return localAddress(what, match[1], Number(match[2] ?? 7233), input);
}

/** A Prometheus URL, placed here: only its origin changes. */
function placePrometheus(what: string, value: string, input: WorkerPodInput): Placed {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: `${what} "${value}" is not a URL` };
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const placed = localAddress(what, url.hostname, port, input);
  if (!placed.ok) return placed;
  // What follows the origin as written; a normalised one (`:80` dropped, case) from the parsed URL.
  const rest = value.startsWith(url.origin)
    ? value.slice(url.origin.length)
    : url.href.slice(url.origin.length);
  return { ok: true, value: `${url.protocol}//${placed.value}${rest}` };
}

/** Addresses the worker dials, by env variable and by the flag of the same meaning. */
const dialed = [
  { variable: 'TEMPORAL_ADDRESS', flag: '--temporal-address', place: placeTemporal },
  { variable: 'PROMETHEUS_URL', flag: '--prometheus-url', place: placePrometheus },
];

/** A value naming a file under a mount path, moved to where that mount's files are here. */
function moveMountPath(value: string, mounts: WorkerPodInput['mounts']): string {
  for (const { mountPath, localPath } of mounts) {
    const base = mountPath.replace(/\/$/, '');
    if (value === base || value.startsWith(`${base}/`)) return `${localPath}${value.slice(base.length)}`;
  }
  return value;
}

/** The local command line and environment of a Cutover worker pod, or why it is not started. */
export function workerPodCommand(input: WorkerPodInput): WorkerPodCommand {
  if (input.command !== undefined && input.command.length > 0) {
    return {
      ok: false,
      reason: `container.command ${JSON.stringify(input.command)} replaces the image's entrypoint; the pod runner runs the image's own (node client/cli.ts), so leave command unset and use args`,
    };
  }
  const { rest, values } = extractFlags(input.args, placedFlags);
  const args = rest.map((arg) => moveMountPath(arg, input.mounts));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.env)) env[name] = moveMountPath(value, input.mounts);
  // Not in a pod: no in-cluster config to find, and the worker's in-cluster defaults do not apply.
  delete env.KUBERNETES_SERVICE_HOST;
  delete env.KUBERNETES_SERVICE_PORT;
  env.KUBECONFIG = input.kubeconfig;

  for (const { variable, flag, place } of dialed) {
    const value = env[variable];
    if (value !== undefined && value !== '') {
      const placed = place(`env ${variable}`, value, input);
      if (!placed.ok) return placed;
      env[variable] = placed.value;
    }
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] ?? '';
      const inline = arg.startsWith(`${flag}=`);
      if (!inline && arg !== flag) continue;
      const at = inline ? i : i + 1;
      const placed = place(`args ${flag}`, inline ? arg.slice(flag.length + 1) : (args[at] ?? ''), input);
      if (!placed.ok) return placed;
      args[at] = inline ? `${flag}=${placed.value}` : placed.value;
    }
  }

  const ports = new Map<number, number>();
  const place = (flag: string, variable: string, fallback: number | undefined): number | undefined => {
    const containerPort = Number(values.get(flag) ?? env[variable] ?? fallback ?? NaN);
    if (!Number.isInteger(containerPort) || containerPort <= 0) return undefined;
    const local = ports.get(containerPort) ?? input.freePort();
    ports.set(containerPort, local);
    env[variable] = String(local);
    return local;
  };
  const metricsPort = place('metrics-port', 'CUTOVER_METRICS_PORT', 8080) ?? 0;
  place('sdk-metrics-port', 'CUTOVER_SDK_METRICS_PORT', undefined);
  const codec = place('codec-port', 'CUTOVER_CODEC_PORT', undefined);
  env.CUTOVER_METRICS_ADDRESS = '127.0.0.1';
  if (codec !== undefined) env.CUTOVER_CODEC_ADDRESS = '127.0.0.1';
  return { ok: true, args, env, ports, metricsPort };
}
