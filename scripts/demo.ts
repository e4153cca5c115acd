// The demo on the embedded default: a podinfo Deployment on the local cluster, served by real podinfo
// processes and scraped by the real Prometheus. Later issues turn this into the full rollout demo.
import * as k8s from '@kubernetes/client-node';
import { kubeClient } from '../stack/cluster.ts';
import { stackEndpoints } from '../stack/endpoints.ts';
import { waitFor } from '../stack/processes.ts';
import { stackDown, stackUp } from '../stack/stack.ts';
import type { ServiceMap } from '../stack/pod-runner.ts';
import { readFileSync } from 'node:fs';

const keep = process.argv.includes('--keep');
const namespace = 'test';
const began = Date.now();

function step(message: string): void {
  const seconds = ((Date.now() - began) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[${seconds}s] ${message}\n`);
}

const endpoints = stackEndpoints();
step('bringing up the local stack (Temporal dev server, KWOK cluster, Prometheus, pod runner)');
const started = await stackUp(endpoints);
const config = kubeClient(endpoints.kubeconfig);
const core = config.makeApiClient(k8s.CoreV1Api);
const apps = config.makeApiClient(k8s.AppsV1Api);

try {
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(() => undefined);
  await apps.deleteNamespacedDeployment({ name: 'podinfo', namespace }).catch(() => undefined);
  const labels = { app: 'podinfo' };
  step('creating Deployment test/podinfo (2 replicas) and Service test/podinfo');
  await waitFor(
    'the namespace to be usable',
    async () => {
      await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: 'podinfo', labels },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                containers: [
                  {
                    name: 'podinfod',
                    image: 'ghcr.io/stefanprodan/podinfo:6.9.2',
                    command: ['./podinfo', '--port=9898', '--port-metrics=9797', '--level=info'],
                    env: [{ name: 'PODINFO_UI_MESSAGE', value: 'hello from the local stack' }],
                    ports: [
                      { name: 'http', containerPort: 9898 },
                      { name: 'http-metrics', containerPort: 9797 },
                    ],
                  },
                ],
              },
            },
          },
        },
      });
      return true;
    },
    30_000,
  );
  await core
    .createNamespacedService({
      namespace,
      body: {
        metadata: { name: 'podinfo' },
        spec: { selector: labels, ports: [{ name: 'http', port: 9898, targetPort: 'http' }] },
      },
    })
    .catch(() => undefined);

  await waitFor(
    'Deployment test/podinfo to be Available',
    async () => {
      const d = await apps.readNamespacedDeployment({ name: 'podinfo', namespace });
      return (d.status?.availableReplicas ?? 0) === 2;
    },
    60_000,
  );
  step('Deployment test/podinfo is Available with 2 replicas');

  let entry: ServiceMap[string][string] | undefined;
  await waitFor(
    'both pods to be served',
    async () => {
      const map = JSON.parse(readFileSync(endpoints.servicesFile, 'utf8')) as ServiceMap;
      entry = map[`podinfo.${namespace}`]?.http;
      return entry?.endpoints.length === 2;
    },
    60_000,
  );
  for (const address of entry?.endpoints ?? []) {
    const info = (await (await fetch(`http://${address}/`)).json()) as { hostname: string; message: string };
    step(`pod ${info.hostname} answers on ${address}: "${info.message}"`);
  }
  step(`Service test/podinfo is reachable on ${entry?.address} (a loopback proxy over its pods)`);
  for (let i = 0; i < 20; i++) await fetch(`http://${entry?.address}/status/200`);

  const query = `sum by (kubernetes_pod_name) (http_request_duration_seconds_count{kubernetes_namespace="${namespace}"})`;
  let samples: { metric: Record<string, string>; value: [number, string] }[] = [];
  await waitFor(
    'Prometheus to scrape both pods',
    async () => {
      const url = new URL('/api/v1/query', endpoints.prometheusUrl);
      url.searchParams.set('query', query);
      const body = (await (await fetch(url)).json()) as { data: { result: typeof samples } };
      samples = body.data.result;
      return samples.length === 2;
    },
    60_000,
  );
  step(`Prometheus (${endpoints.prometheusUrl}) sees http_request_duration_seconds_count:`);
  for (const s of samples) step(`  ${s.metric.kubernetes_pod_name}: ${s.value[1]} requests`);
  step(`Temporal UI: ${endpoints.temporalUiUrl}`);
} finally {
  if (keep) {
    step(`stack left up (--keep); KUBECONFIG=${endpoints.kubeconfig}; stop it with: npm run stack -- down`);
  } else {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await stackDown(started, endpoints);
    step('cleaned up');
  }
}
