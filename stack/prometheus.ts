// Prometheus of the local stack: Debian's package, a generated config, loopback only. Pods are found
// through file-based service discovery that the pod runner keeps current, with the labels Flagger's
// builtin queries select on (kubernetes_namespace, kubernetes_pod_name).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessTable } from './processes.ts';
import { waitFor } from './processes.ts';
import { localPorts } from './endpoints.ts';
import { toolPath } from './tools.ts';

export function prometheusTargetsDir(stateDir: string): string {
  return join(stateDir, 'prometheus', 'targets');
}

export async function prometheusHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

function prometheusConfig(targetsDir: string, scrapeInterval: string): string {
  // JSON is valid YAML, and needs no YAML writer here.
  return JSON.stringify(
    {
      global: { scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval },
      scrape_configs: [
        {
          job_name: 'kubernetes-pods',
          file_sd_configs: [{ files: [join(targetsDir, '*.json')], refresh_interval: '5s' }],
          // podinfo serves /metrics on its main port here (see pod-process.ts), so its request
          // histogram would count every scrape as a request; Flagger's builtin queries sum over
          // all paths, so those series are dropped.
          metric_relabel_configs: [
            {
              source_labels: ['__name__', 'path'],
              regex: 'http_request_duration_seconds_(bucket|count|sum);metrics',
              action: 'drop',
            },
          ],
        },
        {
          job_name: 'cutover',
          file_sd_configs: [{ files: [join(targetsDir, 'cutover', '*.json')], refresh_interval: '5s' }],
        },
      ],
    },
    null,
    2,
  );
}

export async function startPrometheus(processes: ProcessTable, stateDir: string): Promise<void> {
  const url = `http://127.0.0.1:${localPorts.prometheus}`;
  if (await prometheusHealthy(url)) return;
  const dir = join(stateDir, 'prometheus');
  const targetsDir = prometheusTargetsDir(stateDir);
  mkdirSync(join(targetsDir, 'cutover'), { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  // A short scrape interval lets sub-second test rollouts see fresh samples; override for real use.
  writeFileSync(configFile, prometheusConfig(targetsDir, process.env.CUTOVER_SCRAPE_INTERVAL ?? '1s'));
  processes.start({
    name: 'prometheus',
    command: toolPath('prometheus'),
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${localPorts.prometheus}`,
      '--storage.tsdb.retention.time=1d',
      '--web.enable-lifecycle',
    ],
  });
  await waitFor(`Prometheus on ${url}`, () => prometheusHealthy(url), 60_000);
}
