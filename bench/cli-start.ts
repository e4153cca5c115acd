// Benchmark: how long the command line takes to start, as a user runs it (bin/cutover, a fresh
// process each time): `--version` (no backend), `completion bash` (the whole program, no backend),
// and `list -A` against the local stack (both backends). Prints the median and the worst wall time
// and CPU time of each, cold (no compile cache) and warm (V8's compile cache, as bin/cutover sets it).
// It asserts nothing. Usage: npm run bench:cli [-- --runs 10]
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../stack/tools.ts';
import { stackEndpoints } from '../stack/endpoints.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const endpoints = stackEndpoints();

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** One run of bin/cutover: wall time from spawn to exit, and the child's CPU time (user + system). */
function once(args: string[], env: Record<string, string>): Promise<Sample> {
  const started = performance.now();
  // `/usr/bin/time`-free: the shell's `times` prints the children's CPU after the command exits.
  const child = spawn(
    'sh',
    ['-c', `"$0" "$@" >/dev/null 2>&1; times`, join(repoRoot, 'bin', 'cutover'), ...args],
    {
      env: {
        ...process.env,
        KUBECONFIG: endpoints.kubeconfig,
        TEMPORAL_ADDRESS: endpoints.temporalAddress,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      const wallMs = performance.now() - started;
      // `times`: the shell's user/system, then its children's, as "0m0.610s 0m0.080s".
      const children = out.trim().split('\n').at(-1) ?? '';
      const cpuMs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
        (sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000,
        0,
      );
      resolve({ wallMs, cpuMs });
    });
  });
}

function summary(samples: Sample[]): string {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const worst = (xs: number[]) => Math.max(...xs);
  const wall = samples.map((s) => s.wallMs);
  const cpu = samples.map((s) => s.cpuMs);
  const ms = (x: number) => `${Math.round(x)} ms`.padStart(8);
  return `wall median ${ms(median(wall))}  worst ${ms(worst(wall))}   cpu median ${ms(median(cpu))}`;
}

const cases: [string, string[]][] = [
  ['--version', ['--version']],
  ['completion bash', ['completion', 'bash']],
  ['list -A', ['list', '-A']],
];
console.log(
  `cutover start time, ${runs} runs each (load average ${(await import('node:os')).loadavg()[0]?.toFixed(1)})`,
);
for (const [cache, env] of [
  ['cold', { NODE_DISABLE_COMPILE_CACHE: '1' }],
  ['warm', { NODE_COMPILE_CACHE: mkdtempSync(join(tmpdir(), 'cutover-bench-cache-')) }],
] as const) {
  for (const [name, args] of cases) {
    if (cache === 'warm') await once(args, env); // fills the cache
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) samples.push(await once(args, env));
    console.log(`${cache}  ${name.padEnd(16)} ${summary(samples)}`);
  }
}
