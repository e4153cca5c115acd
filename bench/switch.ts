// Benchmark: what production traffic sees across switch mode's flips, and how fast a rollback
// brings the old version back, side by side with Flagger's way of reverting (a full new rollout).
// Under constant load (`hey` against the apex Service's local address, a new connection per
// request), it prints the failed requests across a switch, a flip back and a finalisation; the
// time from each flip to all new connections reaching the new pods; and the time from `rollback`
// (switch mode) or a reverting target change (copy mode) to the old version serving. It asserts
// nothing. Usage: npm run bench:switch [-- --rounds 5]
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { ResolvedRolloutPolicy } from '../canary/rollout-policy.ts';
import { podinfoMessage } from '../stack/podinfo-probe.ts';
import { stackUp } from '../stack/stack.ts';
import { rollbackSignal, statusQuery } from '../workflows/messages.ts';
import { kube, readServiceMap } from '../test/support/cluster.ts';
import { setupScenario } from '../test/support/scenario.ts';
import { startTestWorker } from '../test/support/worker.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);

function policy(keepWarmMs: number): ResolvedRolloutPolicy {
  return {
    name: 'bench',
    strategy: 'switch',
    switch: { keepWarmMs, analysis: { intervalMs: 1000, threshold: 2, metrics: [] } },
  };
}

/** Probes every 10 ms, recording when each answer came; stop() returns the record. */
function startProbes(address: string): { stop(): Promise<{ at: number; message?: string }[]> } {
  const seen: { at: number; message?: string }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const sentAt = Date.now();
      const message = await podinfoMessage(address);
      seen.push({ at: sentAt, ...(message ? { message } : {}) });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/** Constant load with `hey` (new connection per request): the status codes and errors it saw. */
function startHey(
  address: string,
  seconds: number,
): Promise<{ total: number; non2xx: number; errors: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      'hey',
      ['-z', `${seconds}s`, '-c', '4', '-q', '25', '-disable-keepalive', `http://${address}/`],
      { maxBuffer: 4 * 1024 * 1024 },
      (error, stdout) => {
        if (error) return reject(error);
        const codes = [...stdout.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)].map(
          (m) => [Number(m[1]), Number(m[2])] as const,
        );
        const total = codes.reduce((sum, [, n]) => sum + n, 0);
        const non2xx = codes.filter(([code]) => code < 200 || code > 299).reduce((sum, [, n]) => sum + n, 0);
        const errorSection = stdout.split('Error distribution:')[1] ?? '';
        const errors = [...errorSection.matchAll(/\[(\d+)\]/g)].reduce((sum, m) => sum + Number(m[1]), 0);
        resolve({ total, non2xx, errors });
      },
    );
  });
}

/** From `since`: the first moment after which every new connection answered `message`. */
function settledAfter(
  seen: { at: number; message?: string }[],
  since: number,
  message: string,
  until = Infinity,
): number | undefined {
  let settled: number | undefined;
  for (const { at, message: m } of seen) {
    if (at < since || at >= until) continue;
    if (m === message) settled ??= at;
    else settled = undefined;
  }
  return settled === undefined ? undefined : settled - since;
}

async function selectorChangedAt(ns: string, from: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const selector = (await kube().core.readNamespacedService({ name: 'podinfo', namespace: ns })).spec
      ?.selector?.app;
    if (selector !== from) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the apex selector stayed ${from}`);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

await stackUp();
const worker = await startTestWorker('bench-switch');
const flipMs: number[] = [];
const rollbackMs: number[] = [];
const revertMs: number[] = [];
const finaliseMs: number[] = [];
let stale = 0;
let load = { total: 0, non2xx: 0, errors: 0 };
try {
  for (let round = 0; round < rounds; round++) {
    const scenario = await setupScenario(worker, `bench-switch-${round}`, {
      interval: '500ms',
      iterations: 1,
    });
    const ns = scenario.namespace;
    const address = readServiceMap()[`podinfo.${ns}`]?.http?.address;
    if (!address) throw new Error('the apex has no local address');
    const probes = startProbes(address);
    const hey = startHey(address, 25);
    try {
      // A switch, its keep-warm window and the finalisation (flip back to the primary).
      await scenario.changeTarget([`--ui-message=green-${round}`]);
      const first = await scenario.startRollout({ policy: policy(3_000) });
      const toGreen = await selectorChangedAt(ns, 'podinfo-primary', 60_000);
      const toPrimary = await selectorChangedAt(ns, 'podinfo', 60_000);
      const finalised = await first.result();
      if (finalised.outcome !== 'promoted')
        throw new Error(`switch rollout ${finalised.outcome}: ${finalised.reason}`);
      // A second switch, rolled back during its window.
      const secondStarted = Date.now();
      await scenario.changeTarget([`--ui-message=bad-${round}`]);
      const second = await scenario.startRollout({ policy: policy(60_000) });
      await selectorChangedAt(ns, 'podinfo-primary', 60_000);
      while ((await second.query(statusQuery)).serving !== 'green')
        await new Promise((r) => setTimeout(r, 20));
      const rollbackAsked = Date.now();
      await second.signal(rollbackSignal, { by: 'bench', reason: 'measure' });
      await second.result();
      const seen = await probes.stop();
      load = await hey.then((h) => ({
        total: load.total + h.total,
        non2xx: load.non2xx + h.non2xx,
        errors: load.errors + h.errors,
      }));
      const flip = settledAfter(seen, toGreen, `green-${round}`, toPrimary);
      if (flip !== undefined) flipMs.push(flip);
      // After the finalisation's flip back, the primary must already run the tested version.
      stale += seen.filter(
        (p) => p.at > toPrimary + 1000 && p.at < secondStarted && p.message !== `green-${round}`,
      ).length;
      const finalFlip = settledAfter(seen, toPrimary, `green-${round}`, secondStarted);
      if (finalFlip !== undefined) finaliseMs.push(finalFlip);
      const back = settledAfter(seen, rollbackAsked, `green-${round}`);
      if (back !== undefined) rollbackMs.push(back);
      // Flagger's way of undoing a bad change: promote one by copying, then set the target back (an
      // equal template under a new revision, as a Git revert makes), which is a whole new rollout.
      await scenario.changeTarget([`--ui-message=bad-${round}`, '--random-delay=false']);
      const copy = await scenario.startRollout();
      await copy.result();
      const revertProbes = startProbes(address);
      const revertAsked = Date.now();
      await scenario.changeTarget([`--ui-message=green-${round}`, '--random-error=false']);
      const revert = await scenario.startRollout();
      await revert.result();
      const revertSeen = await revertProbes.stop();
      const reverted = settledAfter(revertSeen, revertAsked, `green-${round}`);
      if (reverted !== undefined) revertMs.push(reverted);
    } finally {
      await scenario.remove();
    }
  }
  const line = (name: string, v: number[]) =>
    `  ${name}: n=${v.length} p50 ${percentile(v, 50)} ms, p99 ${percentile(v, 99)} ms, max ${Math.max(...v)} ms`;
  process.stdout.write(
    'switch benchmark (real stack; hey -c 4 -q 25 -disable-keepalive on the apex during each round)\n',
  );
  process.stdout.write(
    `  requests across switches, rollbacks and finalisations: ${load.total}, non-2xx ${load.non2xx}, connection errors ${load.errors}\n`,
  );
  process.stdout.write(`${line('flip → all new connections on green', flipMs)}\n`);
  process.stdout.write(
    `${line('finalisation flip → all new connections on the primary (tested version)', finaliseMs)}\n`,
  );
  process.stdout.write(
    `  answers from the old version later than 1 s after the finalisation flip: ${stale}\n`,
  );
  process.stdout.write(`${line('switch mode: rollback → blue serving', rollbackMs)}\n`);
  process.stdout.write(`${line('copy mode (Flagger): revert → old version serving', revertMs)}\n`);
  const ratio = percentile(revertMs, 50) / percentile(rollbackMs, 50);
  process.stdout.write(`  rollback is ${ratio.toFixed(1)}× faster than a Flagger-mode revert (p50)\n`);
} finally {
  await worker.stop();
}
