// The worker's one HTTP listener: /metrics for Prometheus, /healthz for the liveness probe, /readyz for
// the readiness probe. Node's `http` only.
//
// The Temporal SDK's own worker metrics (task slots, poll latencies, activity/workflow task counts) come
// from its Rust core, which serves them on a listener of its own:
//
//   Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: '0.0.0.0:9464' } } } })
//
// Recommended: keep that second port and scrape both (two endpoints on one PodMonitor / ServiceMonitor).
// Each listener then owns its exposition and the SDK's metrics survive a stuck event loop here.
// `extraMetrics` exists for installations that can scrape only one port: it may, say, fetch the SDK's
// exporter bound to 127.0.0.1 and return its text, which is appended to ours.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthReport {
  ok: boolean;
  /** One line per dependency, e.g. `{ temporal: 'ok', kubernetes: 'watch restarted 3s ago' }`. */
  checks: Record<string, string>;
}

export interface HttpServerOptions {
  port: number;
  address: string;
  registry: Registry;
  /** Liveness: is this process still doing its job? 200 when ok, else 503. */
  health: () => Promise<HealthReport>;
  /** Readiness; default: the same as `health`. */
  ready?: () => Promise<HealthReport>;
  /** Text in Prometheus exposition format appended to the registry's (see the note at the top). */
  extraMetrics?: () => Promise<string>;
  /** A check that takes longer than this answers 503; default 5000 ms (under a probe's usual timeout). */
  checkTimeoutMs?: number;
}

export interface HttpServer {
  /** The address actually bound (port 0 becomes the chosen port). */
  address: string;
  port: number;
  /** `http://address:port`, for logs and tests. */
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const timeoutMs = options.checkTimeoutMs ?? 5000;
  const ready = options.ready ?? options.health;

  const server = http.createServer((request, response) => {
    void route(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });

  const route = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const handler =
      path === '/metrics'
        ? () => serveMetrics(options, response)
        : path === '/healthz'
          ? () => serveCheck(options.health, timeoutMs, response)
          : path === '/readyz'
            ? () => serveCheck(ready, timeoutMs, response)
            : undefined;
    if (handler === undefined) {
      sendText(response, 404, `not found: ${path} (try /metrics, /healthz or /readyz)\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendText(response, 405, `${request.method ?? '?'} not allowed on ${path}; use GET\n`);
      return;
    }
    await handler();
  };

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(listenError(error, options));
    server.once('error', onError);
    server.listen(options.port, options.address, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    address: bound.address,
    port: bound.port,
    url: `http://${host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeIdleConnections();
      }),
  };
}

function listenError(error: Error, options: HttpServerOptions): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${options.address}:${options.port}`;
  if (code === 'EADDRINUSE') {
    return new Error(
      `cannot serve /metrics on ${where}: the port is in use; choose another with --metrics-port`,
      {
        cause: error,
      },
    );
  }
  if (code === 'EADDRNOTAVAIL') {
    return new Error(
      `cannot serve /metrics on ${where}: no such local address; choose another with --metrics-address`,
      { cause: error },
    );
  }
  return new Error(`cannot serve /metrics on ${where}: ${error.message}`, { cause: error });
}

function sendText(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(response.req.method === 'HEAD' ? undefined : text);
}

async function serveMetrics(options: HttpServerOptions, response: http.ServerResponse): Promise<void> {
  let text = await options.registry.metrics();
  if (options.extraMetrics !== undefined) {
    try {
      const extra = await options.extraMetrics();
      if (extra !== '') text += (text.endsWith('\n') ? '' : '\n') + extra;
    } catch (error) {
      // Our own metrics still go out; the comment says why the rest is missing.
      const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
      text += `${text.endsWith('\n') ? '' : '\n'}# extra metrics unavailable: ${reason}\n`;
    }
  }
  response.writeHead(200, { 'content-type': options.registry.contentType });
  response.end(response.req.method === 'HEAD' ? undefined : text);
}

async function serveCheck(
  check: () => Promise<HealthReport>,
  timeoutMs: number,
  response: http.ServerResponse,
): Promise<void> {
  const report = await runCheck(check, timeoutMs);
  response.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
  response.end(response.req.method === 'HEAD' ? undefined : `${JSON.stringify(report)}\n`);
}

async function runCheck(check: () => Promise<HealthReport>, timeoutMs: number): Promise<HealthReport> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HealthReport>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, checks: { check: `no answer within ${timeoutMs} ms` } }),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      check().catch((error: unknown): HealthReport => ({
        ok: false,
        checks: { check: `failed: ${error instanceof Error ? error.message : String(error)}` },
      })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
