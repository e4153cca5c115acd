// A container's Secret and ConfigMap volume mounts, as a kubelet would project them, written under the
// pod's local directory: each key a file (or the `items` asked for), Secrets readable by the owner
// only. A process that reads `/etc/cutover/keys/ring.json` finds it at `<dir>/etc/cutover/keys/ring.json`
// once the runner has moved the path (stack/worker-pod.ts). Other volume kinds are empty directories.
import type * as k8s from '@kubernetes/client-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface VolumeSources {
  configMap(name: string): Promise<Record<string, string> | undefined>;
  secret(name: string): Promise<Record<string, string> | undefined>;
}

/** Writes the container's mounts under `dir`; returns where each mount path is here. */
export async function writeVolumeMounts(
  pod: k8s.V1Pod,
  container: k8s.V1Container,
  dir: string,
  sources: VolumeSources,
): Promise<{ mountPath: string; localPath: string }[]> {
  const mounts: { mountPath: string; localPath: string }[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
    const localPath = join(dir, 'mounts', mount.mountPath);
    mkdirSync(localPath, { recursive: true, mode: 0o700 });
    mounts.push({ mountPath: mount.mountPath, localPath });
    const source = volume?.secret
      ? {
          data: await sources.secret(volume.secret.secretName ?? ''),
          items: volume.secret.items,
          mode: 0o600,
        }
      : volume?.configMap
        ? {
            data: await sources.configMap(volume.configMap.name ?? ''),
            items: volume.configMap.items,
            mode: 0o644,
          }
        : undefined;
    if (!source?.data) continue;
    const files = source.items?.length
      ? source.items.map((item) => [item.path, source.data?.[item.key]] as const)
      : Object.entries(source.data);
    for (const [path, value] of files) {
      if (value === undefined || path.includes('..')) continue;
      const file = join(localPath, path);
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, value, { mode: source.mode });
    }
  }
  return mounts;
}
