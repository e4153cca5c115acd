// The workflow code, bundled once ahead of time (`npm run build:workflows`) instead of by webpack on
// every worker start. The bundle lives outside git in dist/, beside a manifest that records a key: a
// hash of everything that goes into it (the workflow sources reachable from workflows/index.ts, the
// versions of the packages they import and of the bundler). A bundle whose key no longer matches the
// sources is stale, and the worker then bundles in process rather than run old workflow code.
import type { Logger } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export const workflowsPath = join(repoRoot, 'workflows', 'index.ts');
export const defaultBundlePath = join(repoRoot, 'dist', 'workflow-bundle.js');

/** Bumped when the way the bundle is built changes (options given to the bundler). */
const bundleFormat = 1;

export interface BundleManifest {
  key: string;
  /** The local source files hashed into the key, relative to the repository. */
  sources: string[];
  /** npm packages (and the bundler) hashed into the key, with their versions. */
  packages: Record<string, string>;
  builtAt: string;
}

export type BundleState =
  | { state: 'fresh'; codePath: string; manifest: BundleManifest }
  | { state: 'missing' | 'stale'; codePath: string; reason: string };

function manifestPath(codePath: string): string {
  return codePath.replace(/\.js$/, '') + '.json';
}

// Value imports and re-exports of relative modules. `import type` / `export type` are skipped: type
// stripping erases them, so they cannot change the bundle (and they would pull all of activities/ in).
const staticImport = /(?:^|[;}\n])\s*(?:import|export)(\s+type)?\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g;
const bareImport = /(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g;
const dynamicImport = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(staticImport)) {
    if (match[1] === undefined && match[2] !== undefined) found.push(match[2]);
  }
  for (const pattern of [bareImport, dynamicImport]) {
    for (const match of source.matchAll(pattern)) if (match[1] !== undefined) found.push(match[1]);
  }
  return found;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function packageVersion(name: string): string {
  try {
    const file = join(repoRoot, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'missing';
  }
}

/** The key of the bundle the sources make now, and what went into it. */
export function bundleInputs(): Omit<BundleManifest, 'builtAt'> {
  const hash = createHash('sha256').update(`cutover-workflow-bundle ${bundleFormat}\n`);
  const seen = new Set<string>();
  const packages = new Set<string>(['@temporalio/worker']);
  const pending = [workflowsPath];
  while (pending.length > 0) {
    const file = pending.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    // A missing module is hashed as missing; the bundler reports it properly.
    const source = existsSync(file) ? readFileSync(file, 'utf8') : '';
    for (const specifier of importsOf(source)) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.add(packageName(specifier));
    }
  }
  const sources = [...seen].map((file) => relative(repoRoot, file)).sort();
  for (const file of sources) {
    const path = join(repoRoot, file);
    hash
      .update(`${file}\n`)
      .update(existsSync(path) ? readFileSync(path) : 'missing')
      .update('\n');
  }
  const versions = Object.fromEntries([...packages].sort().map((name) => [name, packageVersion(name)]));
  hash.update(JSON.stringify(versions));
  return { key: hash.digest('hex').slice(0, 32), sources, packages: versions };
}

/** Whether the bundle at `codePath` was built from the sources as they are now. */
export function bundleState(codePath = defaultBundlePath): BundleState {
  if (!existsSync(codePath) || !existsSync(manifestPath(codePath))) {
    return { state: 'missing', codePath, reason: `${relative(repoRoot, codePath)} does not exist` };
  }
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath(codePath), 'utf8')) as BundleManifest;
  } catch (error) {
    return { state: 'stale', codePath, reason: `its manifest cannot be read (${String(error)})` };
  }
  const inputs = bundleInputs();
  if (manifest.key !== inputs.key) {
    const changed = inputs.sources.filter((file) => !manifest.sources?.includes(file));
    return {
      state: 'stale',
      codePath,
      reason: `the workflow sources changed since it was built at ${manifest.builtAt}${changed.length > 0 ? ` (new: ${changed.join(', ')})` : ''}`,
    };
  }
  return { state: 'fresh', codePath, manifest };
}

/**
 * Bundles the workflow code and writes it with its manifest. Both are written to temporary files and
 * renamed, the manifest last, so a reader never pairs a manifest with a bundle it does not describe
 * (two builds at once each write their own temporary files; the last rename wins, and both are equal).
 */
export async function buildWorkflowBundle(
  options: { codePath?: string; logger?: Logger } = {},
): Promise<BundleManifest> {
  const codePath = options.codePath ?? defaultBundlePath;
  const inputs = bundleInputs();
  // Loaded only here: checking whether the bundle is fresh should not pay for loading webpack.
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const manifest: BundleManifest = { ...inputs, builtAt: new Date().toISOString() };
  mkdirSync(dirname(codePath), { recursive: true });
  const suffix = `.${process.pid}.tmp`;
  writeFileSync(codePath + suffix, code);
  writeFileSync(manifestPath(codePath) + suffix, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(codePath + suffix, codePath);
  renameSync(manifestPath(codePath) + suffix, manifestPath(codePath));
  return manifest;
}

/** How a Worker gets its workflow code: the prebuilt bundle when it is fresh, else webpack in process. */
export type WorkflowCodeOption = { workflowBundle: { codePath: string } } | { workflowsPath: string };

/**
 * The prebuilt bundle when it matches the sources; otherwise says why (a missing or stale bundle is a
 * slower start, not an error) and falls back to bundling in process.
 */
export function workflowCodeOption(
  warn: (message: string, fields: Record<string, unknown>) => void,
  codePath = defaultBundlePath,
): WorkflowCodeOption {
  const bundle = bundleState(codePath);
  if (bundle.state === 'fresh') return { workflowBundle: { codePath } };
  warn(
    `the prebuilt workflow bundle is ${bundle.state}; bundling in process (a few seconds): run npm run build:workflows`,
    { bundle: codePath, reason: bundle.reason },
  );
  return { workflowsPath };
}
