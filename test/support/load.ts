// Steady HTTP load against a local Service address, as a load-test hook would generate, so that
// Prometheus has request metrics for the pods behind it. Bounded: it stops when told or after maxMs.
import { readServiceMap } from './cluster.ts';

export interface Load {
  stop(): Promise<void>;
  sent(): number;
}

export function startLoad(service: string, namespace: string, path = '/', rps = 20, maxMs = 120_000): Load {
  let stopped = false;
  let sent = 0;
  let inFlight = 0;
  const began = Date.now();
  const loop = (async () => {
    while (!stopped && Date.now() - began < maxMs) {
      const address = readServiceMap()[`${service}.${namespace}`]?.http?.address;
      // Requests are not awaited one by one, so a slow version still gets its share of load.
      if (address && inFlight < 20) {
        inFlight++;
        sent++;
        void fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(5000) })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined)
          .finally(() => inFlight--);
      }
      await new Promise((r) => setTimeout(r, 1000 / rps));
    }
  })();
  return {
    sent: () => sent,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
