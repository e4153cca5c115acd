// The worker's V8 heap: its limit, applied at start, and what it holds after a full collection, on
// /metrics, so that "memory does not grow with completed rollouts" can be read off a running worker.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';

/**
 * Makes `--max-old-space-size=<mb>` hold for this process. V8 sizes its heap once, at start, so the
 * process replaces itself (execve: same pid, same stdio, nothing else kept) with Node started with the
 * flag and the same arguments. Done before anything connects anywhere. Chosen over a child process,
 * which would need signals and the exit code relayed and would show two pids to a supervisor, and over
 * asking for NODE_OPTIONS, which is easy to lose between a manifest and the process.
 * Returns only when the limit already holds, or when it cannot be applied (said in the log).
 */
export function applyHeapLimit(maxHeapMb: number, log: Logger): void {
  const flag = `--max-old-space-size=${maxHeapMb}`;
  // Node reads NODE_OPTIONS first and the command line after, so this flag wins over one there.
  if (process.execArgv.includes(flag)) return;
  if (typeof process.execve !== 'function') {
    log.warn(`cannot apply --max-heap-mb on this Node; start it with NODE_OPTIONS=${flag}`, {
      node: process.version,
    });
    return;
  }
  const others = process.execArgv.filter((arg) => !arg.startsWith('--max-old-space-size='));
  process.execve(
    process.execPath,
    [process.execPath, ...others, flag, ...process.argv.slice(1)],
    process.env,
  );
}

/**
 * `cutover_heap_limit_bytes` and `cutover_heap_used_after_gc_bytes` (with the time of that collection):
 * the used heap right after the latest full (mark-sweep-compact) collection is the live data, which is
 * what must stay flat as rollouts complete; the plain used-heap gauge also counts garbage.
 */
export function registerHeapMetrics(registry: Registry): { stop(): void } {
  const registers = [registry];
  let afterGc: { bytes: number; at: number } | undefined;
  const observer = new PerformanceObserver((list) => {
    const major = list
      .getEntries()
      .some(
        (entry) =>
          (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
          constants.NODE_PERFORMANCE_GC_MAJOR,
      );
    if (major) afterGc = { bytes: getHeapStatistics().used_heap_size, at: Date.now() / 1000 };
  });
  observer.observe({ entryTypes: ['gc'] });
  new Gauge({
    name: 'cutover_heap_limit_bytes',
    help: "V8's heap size limit (set with --max-heap-mb)",
    registers,
    collect() {
      this.set(getHeapStatistics().heap_size_limit);
    },
  });
  new Gauge({
    name: 'cutover_heap_used_after_gc_bytes',
    help: 'Heap in use right after the latest full garbage collection: the live data',
    registers,
    collect() {
      if (afterGc !== undefined) this.set(afterGc.bytes);
    },
  });
  new Gauge({
    name: 'cutover_heap_last_full_gc_timestamp_seconds',
    help: 'When the latest full garbage collection ended (unix seconds)',
    registers,
    collect() {
      if (afterGc !== undefined) this.set(afterGc.at);
    },
  });
  return { stop: () => observer.disconnect() };
}
