// Static checks of the Dockerfile: no Docker engine runs where the tests do, so what a build would
// prove (base image, user, copied paths, entrypoint) is read from the file and the repository instead.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './manifests.ts';

interface Instruction {
  keyword: string;
  args: string;
}

/** The instructions of a Dockerfile, with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

const all = instructions(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const lastFrom = all.map((i) => i.keyword).lastIndexOf('FROM');
const final = all.slice(lastFrom);

function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  assert.ok(Array.isArray(parsed) && parsed.every((a) => typeof a === 'string'), `exec form: ${args}`);
  return parsed as string[];
}

/** Sources of the final stage's COPY instructions from the build context. */
function copiedPaths(): string[] {
  return final
    .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      return words.slice(0, -1).map((w) => normalize(w).replace(/\/$/, ''));
    });
}

/** The defaults of the ARGs before the first FROM, which a FROM may name as `${NAME}`. */
const globalArgs = new Map(
  all
    .slice(
      0,
      all.findIndex((i) => i.keyword === 'FROM'),
    )
    .filter((i) => i.keyword === 'ARG')
    .map((i) => i.args.split('=') as [string, string]),
);

test('every stage builds on Node 24 slim or alpine by default, pinned to the major version, never latest', () => {
  const bases = all
    .filter((i) => i.keyword === 'FROM')
    .map((i) =>
      (i.args.split(/\s+/)[0] ?? '').replace(
        /^\$\{(\w+)\}$/,
        (_, name: string) => globalArgs.get(name) ?? '',
      ),
    );
  assert.ok(bases.length >= 2, 'multi-stage: dependencies are installed in a stage of their own');
  for (const base of bases) assert.match(base, /^node:24(\.\d+){0,2}-(slim|alpine)$/);
});

test('production dependencies are installed from the lockfile and only node_modules reaches the image', () => {
  const build = all.slice(0, lastFrom);
  assert.ok(build.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)));
  assert.ok(build.some((i) => i.keyword === 'COPY' && /package-lock\.json/.test(i.args)));
  const fromStage = final.filter((i) => i.keyword === 'COPY' && i.args.includes('--from='));
  assert.deepEqual(
    fromStage.map((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--'))[0]),
    ['/app/node_modules'],
  );
  assert.ok(!final.some((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args)));
});

test('the image runs as the node user, exposes 8080, checks /healthz, and starts the worker', () => {
  const users = final.filter((i) => i.keyword === 'USER');
  assert.equal(users.at(-1)?.args, 'node');
  const userAt = final.indexOf(users.at(-1) as Instruction);
  assert.ok(
    !final.slice(userAt).some((i) => i.keyword === 'RUN' || i.keyword === 'COPY'),
    'nothing is written into the image after switching to the node user',
  );
  assert.ok(final.some((i) => i.keyword === 'EXPOSE' && i.args.split(/\s+/).includes('8080')));
  // Outside a cluster the worker binds 127.0.0.1 unless told otherwise: unreachable from outside a container.
  assert.ok(final.some((i) => i.keyword === 'ENV' && /\bCUTOVER_METRICS_ADDRESS=0\.0\.0\.0\b/.test(i.args)));
  const healthcheck = final.find((i) => i.keyword === 'HEALTHCHECK');
  assert.match(healthcheck?.args ?? '', /http:\/\/127\.0\.0\.1:8080\/healthz/);
  const entrypoint = execForm(final.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '[]');
  const command = execForm(final.find((i) => i.keyword === 'CMD')?.args ?? '[]');
  assert.deepEqual([...entrypoint, ...command], ['node', 'client/cli.ts', 'worker']);
});

test('no secret is baked into the image and nothing is fetched from a URL', () => {
  for (const i of all) {
    if (i.keyword === 'ENV' || i.keyword === 'ARG') assert.doesNotMatch(i.args, /KEY|TOKEN|PASSWORD|SECRET/i);
    if (i.keyword === 'ADD') assert.doesNotMatch(i.args, /https?:\/\//);
  }
});

test('every copied path exists in the repository and is let through .dockerignore', () => {
  const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(ignore[0], '*', '.dockerignore lets through only what is named');
  const allowed = ignore
    .filter((l) => l.startsWith('!'))
    .map((l) => normalize(l.slice(1)).replace(/\/$/, ''));
  for (const source of [...copiedPaths(), 'package-lock.json']) {
    const path = join(repoRoot, source);
    assert.ok(existsSync(path), `${source} exists`);
    if (statSync(path).isDirectory()) {
      assert.ok(
        readdirSync(path).length > 0,
        `${source}/ has files (an empty folder is not in a git checkout)`,
      );
    }
    assert.ok(allowed.includes(source), `.dockerignore lets ${source} through`);
  }
});

/**
 * The repository files a module may load at run time: relative imports (not `import type`), paths to
 * `.ts` modules in strings, and `new URL(…, import.meta.url)`. Type-only imports are erased by Node.
 */
function runtimeReferences(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const patterns = [
    /^\s*(?:import|export)\s+(?!type\s)[^'";]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm,
    /^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm,
    /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
    /new URL\(\s*['"](\.{1,2}\/[^'"]*)['"]\s*,\s*import\.meta\.url\s*\)/g,
    // A module path held in a variable for a dynamic import, as `cutover worker` loads the worker.
    /['"](\.{1,2}\/[^'"\s]+\.ts)['"]/g,
  ];
  return patterns.flatMap((pattern) =>
    [...text.matchAll(pattern)].map((m) => join(dirname(file), m[1] ?? '')),
  );
}

function inImage(path: string, copied: string[]): boolean {
  const rel = relative(repoRoot, path);
  return copied.some((c) => rel === c || rel.startsWith(`${c}/`));
}

// The worker process and the CLI are being written; until they are, this check has nothing to follow.
const entrypoints = ['client/cli.ts', 'worker/main.ts'];
const missing = entrypoints.filter((e) => !existsSync(join(repoRoot, e)));

test(
  'every module the entrypoints load at run time is copied into the image',
  { todo: missing.length > 0 ? `${missing.join(' and ')} not written yet` : false },
  () => {
    const copied = copiedPaths();
    const seen = new Set<string>();
    const pending = entrypoints.map((e) => join(repoRoot, e));
    while (pending.length > 0) {
      const path = pending.pop() as string;
      if (seen.has(path)) continue;
      seen.add(path);
      assert.ok(
        inImage(path, copied),
        `${relative(repoRoot, path)} is loaded at run time but not copied into the image`,
      );
      if (path.endsWith('.ts') && existsSync(path)) pending.push(...runtimeReferences(path));
    }
  },
);
