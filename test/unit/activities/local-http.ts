// Small real HTTP servers on 127.0.0.1 for activity tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';

export interface LocalServer {
  url: string;
  close(): void;
}

export async function startLocalServer(handler: http.RequestListener): Promise<LocalServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections(); // also the requests a test left hanging
      server.close();
    },
  };
}

/** A URL on which nothing listens: connecting is refused. */
export async function refusingUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A KubeConfig for a fake API server on 127.0.0.1 (a LocalServer answering the paths a test needs). */
export function localKubeconfig(server: LocalServer): k8s.KubeConfig {
  const kubeconfig = new k8s.KubeConfig();
  kubeconfig.loadFromOptions({
    clusters: [{ name: 'fake', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return kubeconfig;
}

/** The API server's answer for an object that does not exist. */
export function notFound(res: http.ServerResponse): void {
  res
    .writeHead(404, { 'Content-Type': 'application/json' })
    .end(
      JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }),
    );
}
