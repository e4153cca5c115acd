// Which cluster the command line talks to, resolved the way kubectl resolves it: --kubeconfig, else
// every file $KUBECONFIG lists (merged, the first to set a value wins), else ~/.kube/config. Only when
// none of these exists does the local stack's kubeconfig stand in, so a clone works out of the box.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { CliError, ExitCode, kubernetesUnreachable } from './commands/context.ts';

export interface KubeconfigEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  /** The local stack's kubeconfig, the last resort. */
  localStack: string;
  exists?: (path: string) => boolean;
}

/** The default kubeconfig list (KUBECONFIG's syntax, joined with the path delimiter). */
export function defaultKubeconfig({
  env,
  home,
  localStack,
  exists = existsSync,
}: KubeconfigEnvironment): string {
  const listed = env.KUBECONFIG ?? '';
  if (listed.split(delimiter).some((path) => path !== '')) return listed;
  const personal = join(home, '.kube', 'config');
  return exists(personal) ? personal : localStack;
}

/**
 * The files of a KUBECONFIG-style list merged in order, with `--context` applied. A missing file in a
 * list of several is skipped, as kubectl does; if none exists, the cluster is unreachable (exit 5).
 */
export function loadKubeconfig(list: string, context?: string, exists = existsSync): k8s.KubeConfig {
  const paths = list.split(delimiter).filter((path) => path !== '');
  const present = paths.filter((path) => exists(path));
  if (present.length === 0) {
    throw kubernetesUnreachable('(no cluster)', list, 'the kubeconfig file does not exist');
  }
  const config = new k8s.KubeConfig();
  for (const path of present) {
    const one = new k8s.KubeConfig();
    try {
      one.loadFromFile(path);
    } catch (error) {
      throw new CliError(
        ExitCode.usage,
        `${path} is not a kubeconfig kubectl could read (${(error as Error).message.split('\n')[0]})`,
      );
    }
    // The first file to name a cluster, user or context, or to set current-context, wins (kubectl).
    for (const cluster of one.getClusters()) if (!config.getCluster(cluster.name)) config.addCluster(cluster);
    for (const user of one.getUsers()) if (!config.getUser(user.name)) config.addUser(user);
    for (const ctx of one.getContexts()) {
      if (!config.getContextObject(ctx.name)) config.addContext(ctx);
    }
    if (!config.getCurrentContext() && one.getCurrentContext())
      config.setCurrentContext(one.getCurrentContext());
  }
  if (context !== undefined) {
    if (!config.getContexts().some((c) => c.name === context)) {
      const known = config.getContexts().map((c) => c.name);
      throw new CliError(
        ExitCode.usage,
        `--context ${context} is not in ${list}${known.length > 0 ? `; it has ${known.join(', ')}` : ''}`,
      );
    }
    config.setCurrentContext(context);
  }
  return config;
}

/** The namespace a context names, else `default` (kubectl's rule). */
export function contextNamespace(config: k8s.KubeConfig): string {
  const current = config.getContextObject(config.getCurrentContext());
  return current?.namespace || 'default';
}
