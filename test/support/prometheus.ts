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
