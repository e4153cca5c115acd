// Which local processes stand behind a Service: the ready pods its selector picks, with the Service's
// target port translated to each pod's local port. This is what lets a load generator or a webhook
// target in the stack reach "the canary service" without dialing a cluster IP.

export interface RunningPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** container port number → local port */
  ports: Map<number, number>;
  /** container port name → container port number */
  namedPorts: Map<string, number>;
  ready: boolean;
}

export interface ServicePortInput {
  name?: string;
  port: number;
  targetPort?: number | string;
}

export interface ServiceInput {
  namespace: string;
  name: string;
  selector?: Record<string, string>;
  ports: ServicePortInput[];
}

export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** Local `127.0.0.1:port` addresses for one Service port, over the ready pods it selects. */
export function serviceEndpoints(
  service: ServiceInput,
  port: ServicePortInput,
  pods: RunningPod[],
): string[] {
  const addresses: string[] = [];
  for (const pod of pods) {
    if (pod.namespace !== service.namespace || !pod.ready || !selects(service.selector, pod.labels)) continue;
    const target = port.targetPort ?? port.port;
    const containerPort =
      typeof target === 'number' ? target : (pod.namedPorts.get(target) ?? Number(target));
    const local = pod.ports.get(containerPort);
    if (local !== undefined) addresses.push(`127.0.0.1:${local}`);
  }
  return addresses.sort();
}

/** The part of an EndpointSlice the pod runner reads (Services without a selector are served from these). */
export interface EndpointSliceInput {
  namespace: string;
  /** The `kubernetes.io/service-name` label. */
  serviceName: string;
  ports: { name?: string; port?: number }[];
  endpoints: { ready: boolean; pod?: string }[];
}

/**
 * Local addresses for one port of a Service without a selector, from its EndpointSlices as kube-proxy
 * reads them: ready endpoints whose target is a pod the runner serves, at the slice port of the same
 * name (a slice carries container ports).
 */
export function sliceEndpoints(
  service: ServiceInput,
  port: ServicePortInput,
  slices: EndpointSliceInput[],
  pods: RunningPod[],
): string[] {
  const addresses = new Set<string>();
  for (const slice of slices) {
    if (slice.namespace !== service.namespace || slice.serviceName !== service.name) continue;
    const slicePort = slice.ports.find((p) => (p.name ?? '') === (port.name ?? ''))?.port;
    if (slicePort === undefined) continue;
    for (const endpoint of slice.endpoints) {
      if (!endpoint.ready || endpoint.pod === undefined) continue;
      const pod = pods.find((p) => p.namespace === slice.namespace && p.name === endpoint.pod);
      const local = pod?.ready ? pod.ports.get(slicePort) : undefined;
      if (local !== undefined) addresses.add(`127.0.0.1:${local}`);
    }
  }
  return [...addresses].sort();
}
