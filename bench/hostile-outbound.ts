// Benchmark: the worker's memory and time under hostile HTTP answers. Local servers on 127.0.0.1 answer
// Prometheus queries, webhooks and alerts with an endless body, a gzip bomb, a body dripped one byte at
// a time, no answer at all, and a redirect; many calls run at once through the activities' own
// functions. Prints the peak RSS against the memory limit of deploy/ (768 MiB) and how long the calls
// took; asserts nothing. Usage: node bench/hostile-outbound.ts [-- --concurrency 40 --rounds 5]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { postAlert } from '../activities/notifications.ts';
import { queryPrometheus } from '../activities/prometheus.ts';
import { callWebhook } from '../activities/webhooks.ts';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '5' },
    'timeout-ms': { type: 'string', default: '2000' },
  },
});
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const timeoutMs = Number(values['timeout-ms']);
const memoryLimitBytes = 768 * 1024 * 1024;

// 256 MiB of zeros as 256 concatenated gzip members of 1 MiB each: about 256 KiB on the wire, and no
// 256 MiB buffer in this process to skew its RSS.
const bomb = Buffer.concat(Array.from({ length: 256 }, () => zlib.gzipSync(Buffer.alloc(1024 * 1024, 0))));
const chunk = Buffer.alloc(256 * 1024, 'x');

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').replace(/\?.*$/, '').replace(/\/api\/v1\/query$/, '');
  switch (path) {
    case '/endless': {
      // As fast as the client reads, for ever.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const pump = (): void => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      return pump();
    }
    case '/bomb':
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      return void res.end(bomb);
    case '/drip': {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 50);
      return void res.on('close', () => clearInterval(timer));
    }
    case '/silent':
      return; // never answers
    case '/redirect':
      return void res.writeHead(302, { Location: '/redirect' }).end();
    default:
      return void res.writeHead(404).end('unknown path');
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const hostile = ['/endless', '/bomb', '/drip', '/silent', '/redirect'];

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

/** One call of each kind to one hostile path; failures are the expected outcome. */
function call(kind: number, path: string): Promise<unknown> {
  switch (kind % 3) {
    case 0:
      return queryPrometheus({ address: `${base}${path}`, query: 'up', timeoutMs }).catch((e: unknown) => e);
    case 1:
      return callWebhook({
        url: `${base}${path}`,
        timeoutMs,
        retries: 0,
        payload: { name: 'podinfo', namespace: 'bench', phase: 'Progressing', checksum: 'x' },
      });
    default:
      return postAlert(`${base}${path}`, { text: 'bench' }, { timeoutMs }).catch((e: unknown) => e);
  }
}

const startRss = process.memoryUsage().rss;
const durations: number[] = [];
const started = performance.now();
for (let round = 0; round < rounds; round++) {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      const t = performance.now();
      await call(i, hostile[(i + round) % hostile.length] ?? '/silent');
      durations.push(performance.now() - t);
    }),
  );
}
const elapsed = performance.now() - started;
clearInterval(sampler);
server.closeAllConnections();
server.close();

durations.sort((a, b) => a - b);
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const at = (p: number): number =>
  durations[Math.min(durations.length - 1, Math.ceil(p * durations.length) - 1)] ?? NaN;
console.log(
  `hostile outbound calls: ${durations.length} (${rounds} rounds of ${concurrency} at once), ${hostile.join(' ')}`,
);
console.log(
  `  rss at start ${mib(startRss)}, peak ${mib(peakRss)}, +${mib(peakRss - startRss)} under the calls (limit in deploy/: ${mib(memoryLimitBytes)}, ${((100 * peakRss) / memoryLimitBytes).toFixed(0)}% of it)`,
);
console.log(
  `  per call: p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${at(1).toFixed(0)} ms (deadline ${timeoutMs} ms)`,
);
console.log(`  total ${(elapsed / 1000).toFixed(1)} s`);
