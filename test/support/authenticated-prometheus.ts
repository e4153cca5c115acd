// The real Prometheus of the stack behind a credentials check, as a hosted Prometheus would demand:
// a request whose Authorization header is not one of `accepted` gets Prometheus's 401 answer.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { endpoints } from './cluster.ts';

export interface AuthenticatedPrometheus {
  url: string;
  port: number;
  /** Every request: its Authorization header and PromQL. */
  seen: { authorization?: string; query: string }[];
  close(): Promise<void>;
}

export async function authenticatedPrometheus(accepted: readonly string[]): Promise<AuthenticatedPrometheus> {
  const seen: AuthenticatedPrometheus['seen'] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push({ authorization: req.headers.authorization, query: url.searchParams.get('query') ?? '' });
    if (!accepted.includes(req.headers.authorization ?? '')) {
      res.writeHead(401).end('{"status":"error","errorType":"unauthorized","error":"bad token"}');
      return;
    }
    void fetch(new URL(`${url.pathname}${url.search}`, endpoints.prometheusUrl))
      .then(async (upstream) =>
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()),
      )
      .catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
