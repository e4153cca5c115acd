// Test helper: instant PromQL queries against the stack's real Prometheus.
import { endpoints } from './cluster.ts';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function promQuery(query: string): Promise<PromSample[]> {
  const url = new URL('/api/v1/query', endpoints.prometheusUrl);
  url.searchParams.set('query', query);
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
  if (body.status !== 'success') throw new Error(`PromQL ${query} failed: ${body.error}`);
  return body.data?.result ?? [];
}

/**
 * An acceptance-test hook for scenarios: answers once Prometheus has request rates for the green
 * pods, so the first analysis tick judges real data rather than a scrape that has not happened yet.
 */
export async function canaryMetricsReady(
  body: Record<string, unknown>,
): Promise<{ status: number; body: string }> {
  const namespace = String(body.namespace);
  const query = `sum(rate(http_request_duration_seconds_count{kubernetes_namespace="${namespace}", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[30s]))`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const samples = await promQuery(query);
    if (samples.length > 0 && Number(samples[0]?.value[1]) > 0) return { status: 200, body: 'metrics ready' };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { status: 504, body: 'no metrics for the canary pods after 20s' };
}
