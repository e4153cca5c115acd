// The loopback ports of the cluster's inner components (etcd, the controller-manager, the scheduler,
// the KWOK controller). kwokctl would count them down from 32767, so two stacks started side by side
// pick the same ones and the second cluster fails; instead each stack picks free ports at random once,
// at its first `up`, and remembers them in its state directory.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';

const clusterPortsSchema = z.object({
  etcd: z.number().int(),
  etcdPeer: z.number().int(),
  kubeControllerManager: z.number().int(),
  kubeScheduler: z.number().int(),
  kwokController: z.number().int(),
});

export type ClusterPorts = z.infer<typeof clusterPortsSchema>;
export type ClusterPortName = keyof ClusterPorts;
export const clusterPortNames = Object.keys(clusterPortsSchema.shape) as ClusterPortName[];

/** Below Linux's ephemeral range (32768–60999), so an outgoing connection never holds one of them. */
export const clusterPortRange = { low: 20_000, high: 32_000 } as const;

export function clusterPortsFile(stateDir: string): string {
  return join(stateDir, 'cluster-ports.json');
}

/** Whether nothing listens on `port`, neither on 127.0.0.1 nor on all interfaces. */
export async function portFree(port: number): Promise<boolean> {
  for (const host of ['127.0.0.1', '0.0.0.0']) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}

function randomPort(): number {
  const { low, high } = clusterPortRange;
  return low + Math.floor(Math.random() * (high - low));
}

async function pickFreePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = randomPort();
    if (!taken.has(port) && (await portFree(port))) return port;
  }
  throw new Error(
    `no free loopback port found in ${clusterPortRange.low}-${clusterPortRange.high}: too many ports in use`,
  );
}

function readRemembered(stateDir: string): ClusterPorts | undefined {
  const file = clusterPortsFile(stateDir);
  if (!existsSync(file)) return undefined;
  const parsed = clusterPortsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/**
 * The ports for a cluster about to be created: the remembered ones where they are still free, new free
 * ones otherwise (and at the first `up`); `avoid` are ports the stack uses elsewhere. The result is
 * remembered for the next time.
 */
export async function clusterPortsForCreate(stateDir: string, avoid: number[]): Promise<ClusterPorts> {
  const remembered = readRemembered(stateDir);
  const taken = new Set(avoid);
  const ports: Partial<ClusterPorts> = {};
  for (const name of clusterPortNames) {
    const previous = remembered?.[name];
    const port =
      previous !== undefined && !taken.has(previous) && (await portFree(previous))
        ? previous
        : await pickFreePort(taken);
    taken.add(port);
    ports[name] = port;
  }
  const chosen = clusterPortsSchema.parse(ports);
  writeFileSync(clusterPortsFile(stateDir), `${JSON.stringify(chosen, null, 2)}\n`);
  return chosen;
}
