// --max-heap-mb: the worker replaces itself (same pid) with a Node that has the limit; and the heap
// gauges on /metrics.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const heapModule = new URL('../../../worker/heap.ts', import.meta.url).href;

test('the heap limit is applied by replacing the process in place: same pid, new limit', async () => {
  const script = `
    const { applyHeapLimit } = await import(${JSON.stringify(heapModule)});
    const { getHeapStatistics } = await import('node:v8');
    const log = { warn: (m) => console.log('WARN ' + m) };
    console.log('before ' + process.pid);
    applyHeapLimit(200, log);
    console.log('after ' + process.pid + ' ' + getHeapStatistics().heap_size_limit + ' ' + process.execArgv.filter((a) => a.startsWith('--max-old')).join(','));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  const lines = stdout.trim().split('\n');
  // The first process prints "before" and is replaced; the replacement prints both lines.
  const pids = lines.filter((l) => l.startsWith('before ')).map((l) => l.split(' ')[1]);
  const after = lines.filter((l) => l.startsWith('after '));
  assert.equal(after.length, 1, stdout);
  const [, pid, limit, flags] = (after[0] as string).split(' ');
  assert.ok(pids.length === 2 && pids.every((p) => p === pid), `same pid throughout: ${stdout}`);
  assert.equal(flags, '--max-old-space-size=200');
  // V8's limit is the old space plus the young generation.
  const mib = Number(limit) / 1024 / 1024;
  assert.ok(mib >= 200 && mib < 500, `heap limit ${mib} MiB`);
});

test('heap gauges: the limit, and the live heap after the latest full collection', async () => {
  const script = `
    const { registerHeapMetrics } = await import(${JSON.stringify(heapModule)});
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    const heap = registerHeapMetrics(registry);
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 50));
    console.log(await registry.metrics());
    heap.stop();
  `;
  const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    cwd: new URL('../../..', import.meta.url),
  });
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(stdout)?.[1]);
  assert.ok(value('cutover_heap_limit_bytes') > 100 * 1024 * 1024, stdout);
  assert.ok(value('cutover_heap_used_after_gc_bytes') > 1024 * 1024, stdout);
  assert.ok(Math.abs(value('cutover_heap_last_full_gc_timestamp_seconds') - Date.now() / 1000) < 60, stdout);
});
