// A hook receiver for fault tests: every call recorded with its time and Idempotency-Key, gates that
// open a fixed time after their first call (so a rollout with and without a crash waits the same), and
// slow hooks that keep a call in flight long enough to kill the worker in the middle of it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultCall {
  path: string;
  at: number;
  idempotencyKey?: string;
  body: Record<string, unknown>;
}

export type FaultRoute =
  /** Answers 403 until `openAfterMs` passed since the route's first call, then 200. */
  | { kind: 'gate'; openAfterMs: number }
  /** Answers `status` after `delayMs`. */
  | { kind: 'slow'; delayMs: number; status?: number }
  | { kind: 'fixed'; status: number };

export interface FaultReceiver {
  url(path: string): string;
  calls(path: string): FaultCall[];
  /** Distinct Idempotency-Keys seen on a path (calls of one hook call, retried, share one). */
  distinctKeys(path: string): number;
  close(): Promise<void>;
}

export async function startFaultReceiver(routes: Record<string, FaultRoute>): Promise<FaultReceiver> {
  const calls: FaultCall[] = [];
  const firstCallAt = new Map<string, number>();
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (raw.length < 1_000_000) raw += chunk;
    });
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        // a hook payload that is not JSON is recorded empty
      }
      const at = Date.now();
      const key = req.headers['idempotency-key'];
      calls.push({ path, at, body, ...(typeof key === 'string' ? { idempotencyKey: key } : {}) });
      if (!firstCallAt.has(path)) firstCallAt.set(path, at);
      const reply = (status: number): void => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status < 300 ? 'ok' : 'not yet');
      };
      const route = routes[path];
      if (!route) return reply(200);
      if (route.kind === 'fixed') return reply(route.status);
      if (route.kind === 'gate')
        return reply(at - (firstCallAt.get(path) ?? at) >= route.openAfterMs ? 200 : 403);
      setTimeout(() => reply(route.status ?? 200), route.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    calls: (path) => calls.filter((c) => c.path === path),
    distinctKeys: (path) => new Set(calls.filter((c) => c.path === path).map((c) => c.idempotencyKey)).size,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
