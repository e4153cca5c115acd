// Where the installer put each tool. Paths are keyed by the versions in scripts/versions.env, so the
// stack always runs exactly what scripts/install-tools.sh built.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export function cacheDir(): string {
  return process.env.CUTOVER_CACHE ?? join(homedir(), '.cache', 'cutover');
}

export function readVersions(): Record<string, string> {
  const text = readFileSync(join(repoRoot, 'scripts', 'versions.env'), 'utf8');
  const versions: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) versions[match[1]] = match[2];
  }
  return versions;
}

export type ToolName =
  | 'temporal'
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubectl'
  | 'kwok'
  | 'kwokctl'
  | 'podinfo'
  | 'prometheus'
  | 'hey'
  | 'loadtester'
  | 'helm';

/** Where a tool sits in the cache: `<dir>/<version>[-<build>]/bin`; the build number changes when the way
 * a tool is built changes without its version changing (see scripts/versions.env). */
interface CacheLayout {
  dir: string;
  versionKey: string;
  buildKey?: string;
}

const cacheLayout: Record<ToolName, CacheLayout | undefined> = {
  temporal: { dir: 'temporal', versionKey: 'TEMPORAL_CLI_VERSION' },
  etcd: { dir: 'etcd', versionKey: 'ETCD_VERSION' },
  'kube-apiserver': { dir: 'kubernetes', versionKey: 'KUBERNETES_VERSION', buildKey: 'KUBERNETES_BUILD' },
  'kube-controller-manager': {
    dir: 'kubernetes',
    versionKey: 'KUBERNETES_VERSION',
    buildKey: 'KUBERNETES_BUILD',
  },
  'kube-scheduler': { dir: 'kubernetes', versionKey: 'KUBERNETES_VERSION', buildKey: 'KUBERNETES_BUILD' },
  kubectl: { dir: 'kubernetes', versionKey: 'KUBERNETES_VERSION', buildKey: 'KUBERNETES_BUILD' },
  kwok: { dir: 'kwok', versionKey: 'KWOK_VERSION' },
  kwokctl: { dir: 'kwok', versionKey: 'KWOK_VERSION' },
  podinfo: { dir: 'podinfo', versionKey: 'PODINFO_VERSION' },
  loadtester: { dir: 'loadtester', versionKey: 'FLAGGER_VERSION' },
  helm: { dir: 'helm', versionKey: 'HELM_VERSION', buildKey: 'HELM_BUILD' },
  prometheus: undefined,
  hey: undefined,
};

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The binary to run for a tool: the cached build of the pinned version, else one on PATH. */
export function toolPath(name: ToolName): string {
  const layout = cacheLayout[name];
  if (layout) {
    const versions = readVersions();
    const version = versions[layout.versionKey] ?? 'unknown';
    const build = layout.buildKey ? versions[layout.buildKey] : undefined;
    const cached = join(cacheDir(), layout.dir, build ? `${version}-${build}` : version, 'bin', name);
    if (existsSync(cached)) return cached;
  }
  const found = onPath(name);
  if (found) return found;
  throw new Error(`${name} is not installed: run scripts/install-tools.sh (or put ${name} on PATH)`);
}
