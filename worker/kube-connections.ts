// Keep-alive connections to the API server for every call of the generated API clients.
//
// @kubernetes/client-node 2.0 gives each request of its generated clients a new undici Agent
// (KubeConfig.applySecurityAuthentication → createDispatcher), so every read, patch and apply opened a
// TCP connection and did a TLS handshake with the client certificate, on the worker and on the API
// server alike: in a CPU profile of 20 rollouts that was the largest share of the worker's CPU (TLS
// contexts, handshakes, certificate parsing). Here the first Agent made for a set of credentials is kept
// and handed to every later request with the same ones; connections are pooled and reused. Watches
// already reuse theirs (the library caches the agents of its own watch requests).
import type * as k8s from '@kubernetes/client-node';
import { statSync } from 'node:fs';

interface Dispatcher {
  close(): Promise<void>;
}

/** What the connection is made with; a rotated certificate file (new mtime) makes a new key. */
function credentialsKey(config: k8s.KubeConfig): string {
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  const fileVersion = (path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    try {
      const stat = statSync(path);
      return `${path}@${stat.mtimeMs}:${stat.size}`;
    } catch {
      return `${path}@missing`;
    }
  };
  return JSON.stringify([
    cluster?.server,
    cluster?.caData,
    fileVersion(cluster?.caFile),
    cluster?.skipTLSVerify,
    cluster?.tlsServerName,
    cluster?.proxyUrl,
    user?.name,
    user?.certData,
    fileVersion(user?.certFile),
    user?.keyData,
    fileVersion(user?.keyFile),
  ]);
}

/** Makes the API clients of `config` share one pooled, keep-alive Agent per set of credentials. */
export function reuseApiConnections(config: k8s.KubeConfig): k8s.KubeConfig {
  let kept: { key: string; dispatcher: Dispatcher } | undefined;
  const apply = config.applySecurityAuthentication.bind(config);
  config.applySecurityAuthentication = async (context: k8s.RequestContext): Promise<void> => {
    await apply(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return; // plain HTTP without TLS settings: the global dispatcher pools
    const key = credentialsKey(config);
    if (kept?.key === key) {
      context.setDispatcher(kept.dispatcher as typeof fresh);
      // Never used, so it holds no connection; closing frees what it allocated.
      void fresh.close().catch(() => undefined);
      return;
    }
    // New credentials (or the first call): later requests use this Agent; the old one finishes what it
    // has in flight and closes.
    const previous = kept;
    kept = { key, dispatcher: fresh };
    if (previous !== undefined) void previous.dispatcher.close().catch(() => undefined);
  };
  return config;
}
