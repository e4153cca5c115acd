// Which processes the local cluster consists of, and whether each runs: read from kwokctl's saved
// configuration and pid files only. Kept apart from cluster.ts (which loads the Kubernetes client) so
// that the supervisor, which asks this every two seconds, stays a small process.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isAlive } from './processes.ts';

export const clusterName = 'cutover';

export function clusterDir(stateDir: string): string {
  return join(stateDir, 'kwok', 'clusters', clusterName);
}

export interface ClusterComponent {
  name: string;
  running: boolean;
  pid?: number;
}

/** The components kwokctl runs for the cluster, from its saved configuration and pid files. */
export function clusterComponents(stateDir: string): ClusterComponent[] | undefined {
  const dir = clusterDir(stateDir);
  const configFile = join(dir, 'kwok.yaml');
  if (!existsSync(configFile)) return undefined;
  const docs = readFileSync(configFile, 'utf8').split(/^---$/m);
  const components: ClusterComponent[] = [];
  for (const doc of docs) {
    const parsed = parseYaml(doc) as {
      kind?: string;
      components?: { name?: string; binary?: string; workDir?: string }[];
    } | null;
    if (parsed?.kind !== 'KwokctlConfiguration') continue;
    for (const c of parsed.components ?? []) {
      if (!c.name || !c.binary) continue;
      // kwokctl keeps `<workdir>/pids/<binary name>.pid` for each component it forks.
      const pidFile = join(c.workDir ?? dir, 'pids', `${basename(c.binary)}.pid`);
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined;
      const running = pid !== undefined && Number.isInteger(pid) && isAlive(pid);
      components.push({ name: c.name, running, pid: running ? pid : undefined });
    }
  }
  return components;
}
