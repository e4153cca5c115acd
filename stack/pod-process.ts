// How the pod runner turns a container of a KWOK pod into a real local process, as a kubelet would:
// the container's arguments and environment are kept, so a Deployment can make a version slow or
// failing, but every listening port is moved to a free port on 127.0.0.1 (pod IPs are not on this
// machine) and remembered, so Services and Prometheus can find it. Nothing listens beyond loopback: a
// server of the program that cannot be bound to 127.0.0.1 is not started.

export interface LocalImage {
  /** Which container images this binary stands in for. */
  image: RegExp;
  binary: string;
  /** The flag that sets the address the servers of `portFlags` bind to; always 127.0.0.1 here. */
  hostFlag: string;
  /** Flags that take a listening port, with the port the program uses when the flag is absent (0 = off). */
  portFlags: Record<string, number>;
  /**
   * Port flags of servers that ignore `hostFlag` and would listen on every interface. They are not
   * passed; the container port is served by the local port of the named `portFlags` flag when that
   * server answers the same requests, and by nothing when the value is undefined.
   */
  foldedPortFlags: Record<string, string | undefined>;
  /** The flag whose container port serves Prometheus metrics; else the first port flag. */
  metricsFlag?: string;
  /** Flags dropped because they point at container paths that do not exist here. */
  droppedFlags: string[];
}

export const podinfoImage: LocalImage = {
  image: /(^|\/)podinfo(:|@|$)/,
  binary: 'podinfo',
  hostFlag: 'host',
  portFlags: { port: 9898 },
  // podinfo binds its metrics and gRPC servers to ":port" whatever --host says. Its main HTTP server
  // serves /metrics too, so the metrics port is folded into it (Prometheus drops the series of its
  // own scrapes, see prometheus.ts); gRPC is not served locally.
  foldedPortFlags: { 'port-metrics': 'port', 'grpc-port': undefined },
  metricsFlag: 'port-metrics',
  droppedFlags: ['config-path', 'data-path', 'ui-path', 'cert-path'],
};

export interface ContainerInput {
  image: string;
  command?: string[];
  args?: string[];
}

export interface LocalCommand {
  args: string[];
  /** container port → local port on 127.0.0.1 */
  ports: Map<number, number>;
  /** The local port Prometheus scrapes. */
  metricsPort: number;
  /** Container ports asked for that nothing serves here (their server cannot bind loopback only). */
  unserved: number[];
}

/** Splits `--flag=value` / `--flag value` arguments, keeping the ones not in `flags`. */
export function extractFlags(
  argv: string[],
  flags: string[],
): { rest: string[]; values: Map<string, string> } {
  const rest: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    const name = match?.[1];
    if (!match || name === undefined || !flags.includes(name)) {
      rest.push(arg);
      continue;
    }
    if (match[2] !== undefined) {
      values.set(name, match[2]);
    } else {
      values.set(name, argv[i + 1] ?? '');
      i++;
    }
  }
  return { rest, values };
}

/**
 * Builds the local command line. `freePort` hands out a free loopback port for each listening port.
 * The container's entrypoint (`./podinfo`) is replaced by the local binary, as an image would map it.
 */
export function localCommand(
  spec: LocalImage,
  container: ContainerInput,
  freePort: () => number,
): LocalCommand {
  const command = container.command ?? [];
  const argv = [...command.slice(1), ...(container.args ?? [])];
  const { rest, values } = extractFlags(argv, [
    spec.hostFlag,
    ...Object.keys(spec.portFlags),
    ...Object.keys(spec.foldedPortFlags),
    ...spec.droppedFlags,
  ]);
  const ports = new Map<number, number>();
  const localByFlag = new Map<string, number>();
  const args = [...rest, `--${spec.hostFlag}=127.0.0.1`];
  let mainPort = 0;
  for (const [flag, defaultPort] of Object.entries(spec.portFlags)) {
    const containerPort = Number(values.get(flag) ?? defaultPort);
    if (!Number.isInteger(containerPort) || containerPort <= 0) continue;
    const local = freePort();
    ports.set(containerPort, local);
    localByFlag.set(flag, local);
    args.push(`--${flag}=${local}`);
    if (mainPort === 0) mainPort = local;
  }
  const unserved: number[] = [];
  let metricsPort = 0;
  for (const [flag, into] of Object.entries(spec.foldedPortFlags)) {
    const containerPort = Number(values.get(flag) ?? 0);
    if (!Number.isInteger(containerPort) || containerPort <= 0) continue;
    const local = into === undefined ? undefined : localByFlag.get(into);
    if (local === undefined) {
      unserved.push(containerPort);
      continue;
    }
    ports.set(containerPort, local);
    if (flag === spec.metricsFlag) metricsPort = local;
  }
  return { args, ports, metricsPort: metricsPort || mainPort, unserved };
}

/** Kubernetes' `$(VAR)` expansion in args and env values; `$$(VAR)` escapes it. */
export function expandVariables(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    if (name !== undefined && env[name] !== undefined) return env[name];
    return whole;
  });
}
