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
