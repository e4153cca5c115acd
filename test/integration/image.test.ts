// The worker image, built for real and run: scripts/build-image.sh builds the Dockerfile with buildah
// (daemonless, chroot isolation) on the base image it makes from Debian's packages and Node from the npm
// registry, then the image runs in chroot isolation: its user and contents, `--version`, `worker --help`,
// and a worker against the local stack that reports ready on /readyz and promotes a blue/green rollout.
// The chroot shares the host's network, so the stack's loopback addresses work unchanged.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { TestContext } from 'node:test';
import { waitFor } from '../../stack/processes.ts';
import { freeLocalPort } from '../../stack/tcp-proxy.ts';
import { repoRoot, toolPath } from '../../stack/tools.ts';
import { endpoints, testNamespace } from '../support/cluster.ts';
import { runCommand } from '../support/run-command.ts';
import type { CommandResult } from '../support/run-command.ts';
import { promotePodinfoRollout } from '../support/podinfo-rollout.ts';

const run = promisify(execFile);
const buildah = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'buildah'))
  .find((path) => existsSync(path));
const skip =
  buildah === undefined && 'buildah is not installed: scripts/install-tools.sh installs it (Debian package)';
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;
const outputCap = 16 * 1024 * 1024;

let image = '';
let container = '';
let buildLog = '';
let entrypoint: string[] = [];

function runBuildah(args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand(buildah ?? 'buildah', args, { timeoutMs });
}

/** A command in the image's container, as the image's user, in chroot isolation. */
function inImage(
  command: string[],
  options: { env?: Record<string, string>; volumes?: string[] } = {},
): string[] {
  return [
    'run',
    '--isolation',
    'chroot',
    ...Object.entries(options.env ?? {}).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
    ...(options.volumes ?? []).flatMap((volume) => ['--volume', volume]),
    container,
    '--',
    ...command,
  ];
}

/** What the same command does in this checkout, to tell a missing CLI feature from a broken image. */
function onHost(args: string[]): Promise<CommandResult> {
  return runCommand(process.execPath, [join(repoRoot, 'client', 'cli.ts'), ...args], {
    env: { ...process.env, KUBECONFIG: '' },
    timeoutMs: 30_000,
  });
}

before(async () => {
  if (skip) return;
  // Cold (no base image, no cached layers) this takes minutes: mmdebstrap, npm ci. Warm, seconds.
  const built = await run('bash', [join(repoRoot, 'scripts', 'build-image.sh')], {
    timeout: 20 * 60_000,
    maxBuffer: outputCap,
  });
  image = built.stdout.trim().split('\n').at(-1) ?? '';
  buildLog = built.stderr;
  assert.match(image, /^localhost\/cutover:/);
  const created = await runBuildah(['from', '--quiet', '--pull-never', image]);
  assert.equal(created.code, 0, created.stderr);
  container = created.stdout.trim();
  const inspected = await runBuildah(['inspect', '--type', 'image', image]);
  const config = (JSON.parse(inspected.stdout) as { Docker: { config: { Entrypoint?: string[] } } }).Docker
    .config;
  entrypoint = config.Entrypoint ?? [];
});

after(async () => {
  if (container) await runBuildah(['rm', container]);
});

test(
  'the image runs as node (uid 1000) with production dependencies only and one native core bridge',
  { skip },
  async (t: TestContext) => {
    t.diagnostic(buildLog.trim().split('\n').at(-1) ?? '');
    const inspected = await runBuildah(['inspect', '--type', 'image', image]);
    const info = JSON.parse(inspected.stdout) as {
      Docker: { config: { User?: string; Cmd?: string[]; Healthcheck?: unknown } };
    };
    assert.equal(info.Docker.config.User, 'node');
    assert.deepEqual([...entrypoint, ...(info.Docker.config.Cmd ?? [])], ['node', 'client/cli.ts', 'worker']);
    assert.ok(info.Docker.config.Healthcheck, 'the HEALTHCHECK is kept (docker format)');

    const id = await runBuildah(inImage(['id', '-u']));
    assert.equal(id.stdout.trim(), '1000');
    const listing = await runBuildah(
      inImage([
        'node',
        '-e',
        `const fs = require('node:fs');
         const has = (p) => fs.existsSync('/app/node_modules/' + p);
         console.log(JSON.stringify({
           node: process.versions.node,
           dev: ['typescript', 'eslint', 'prettier', 'typescript-eslint', 'playwright-core'].filter(has),
           bridges: fs.readdirSync('/app/node_modules/@temporalio/core-bridge/releases'),
           rustSources: has('@temporalio/core-bridge/sdk-core'),
           npm: fs.existsSync('/usr/local/bin/npm'),
           bundle: fs.existsSync('/app/dist/workflow-bundle.js'),
         }));`,
      ]),
    );
    assert.equal(listing.code, 0, listing.stderr);
    const contents = JSON.parse(listing.stdout) as {
      node: string;
      dev: string[];
      bridges: string[];
      rustSources: boolean;
      npm: boolean;
      bundle: boolean;
    };
    assert.match(contents.node, /^24\./);
    assert.deepEqual(contents.dev, [], 'no development dependency in the image');
    assert.deepEqual(contents.bridges, ['x86_64-unknown-linux-gnu']);
    assert.equal(contents.rustSources, false);
    assert.equal(contents.npm, false, 'npm stays in the build stage');
    assert.equal(contents.bundle, true, 'the workflow code is bundled at build time');

    const listed = await runBuildah(['images', '--json', image]);
    const size = (JSON.parse(listed.stdout) as { size: string }[])[0]?.size ?? '?';
    console.log(`image ${image}: ${size}`);
    t.diagnostic(`image size ${size}`);
  },
);

test('`--version` in the image prints the version of package.json', async (t: TestContext) => {
  if (skip) return t.skip(skip);
  const host = await onHost(['--version']);
  if (host.code !== 0) return t.todo('the command line has no --version yet (issue 12, item 3)');
  const result = await runBuildah(inImage([...entrypoint, '--version']));
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(version.replaceAll('.', '\\.')));
});

test('`worker --help` in the image prints the flags and their variables', async (t: TestContext) => {
  if (skip) return t.skip(skip);
  const host = await onHost(['worker', '--help']);
  if (host.code !== 0) return t.todo(`worker --help fails in the checkout too: ${host.stderr.trim()}`);
  const result = await runBuildah(inImage([...entrypoint, 'worker', '--help']));
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /--temporal-address/);
  assert.match(result.stdout, /TEMPORAL_ADDRESS/);
});

test(
  'a worker in the image, against the local stack, reports ready on /readyz and promotes a rollout',
  { skip },
  async (t: TestContext) => {
    const namespace = await testNamespace('image');
    // The kubeconfig with its certificates inlined, readable by the image's user and nobody else.
    const dir = mkdtempSync(join(tmpdir(), 'cutover-image-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const { stdout } = await run(
      toolPath('kubectl'),
      ['config', 'view', '--flatten', '--minify', '--kubeconfig', endpoints.kubeconfig],
      { timeout: 30_000, maxBuffer: outputCap },
    );
    writeFileSync(kubeconfig, stdout, { mode: 0o600 });
    chownSync(kubeconfig, 1000, 1000);
    const port = await freeLocalPort();
    const args = inImage([...entrypoint, 'worker'], {
      env: {
        TEMPORAL_ADDRESS: endpoints.temporalAddress,
        TEMPORAL_NAMESPACE: endpoints.temporalNamespace,
        PROMETHEUS_URL: endpoints.prometheusUrl,
        KUBECONFIG: '/etc/cutover/kubeconfig',
        // Its own task queue and namespace, so it acts on nothing of the other tests.
        CUTOVER_TASK_QUEUE: `image-test-${process.pid}`,
        CUTOVER_WATCH_NAMESPACE: namespace.name,
        CUTOVER_METRICS_ADDRESS: '127.0.0.1',
        CUTOVER_METRICS_PORT: String(port),
        CUTOVER_SHUTDOWN_GRACE: '2s',
        CUTOVER_MIN_INTERVAL: '100ms',
      },
      volumes: [`${kubeconfig}:/etc/cutover/kubeconfig:ro`],
    });
    // Its own process group, so that stopping it stops what buildah started and nothing else.
    const child = spawn(buildah ?? 'buildah', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = performance.now();
    try {
      let exitCode: number | null | undefined;
      void exited.then((code) => (exitCode = code));
      await waitFor(
        `the image's worker to answer 200 on /readyz (port ${port})`,
        async () => {
          if (exitCode !== undefined) throw new Error(`the worker exited with ${exitCode}:\n${output}`);
          const response = await fetch(`http://127.0.0.1:${port}/readyz`, {
            signal: AbortSignal.timeout(2000),
          }).catch(() => undefined);
          return response?.status === 200;
        },
        120_000,
      );
      t.diagnostic(`ready after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      t.diagnostic(`workflow code: ${/"workflowCode":"([^"]*)"/.exec(output)?.[1] ?? 'not logged'}`);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
      assert.match(
        await metrics.text(),
        new RegExp(`flagger_info\\{[^}]*version="${version.replaceAll('.', '\\.')}"`),
      );

      // A blue/green rollout of podinfo, driven the way a user drives it: a Canary, then a new pod template.
      await promotePodinfoRollout(namespace.name, () => output);
      t.diagnostic(
        `promoted ${((performance.now() - started) / 1000).toFixed(1)} s after the worker started`,
      );
    } finally {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      const stopped = await Promise.race([
        exited.then(() => true),
        new Promise((r) => setTimeout(r, 15_000, false)),
      ]);
      if (!stopped && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
      await namespace.remove();
    }
  },
);
