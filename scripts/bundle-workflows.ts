// `npm run build:workflows`: bundles the workflow code into dist/workflow-bundle.js, which the worker
// loads instead of running webpack on every start. With --if-stale (what scripts/env.sh runs) it does
// nothing when the bundle already matches the sources, so a warm start costs only the check.
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWorkflowBundle, bundleState, defaultBundlePath } from '../worker/workflow-bundle.ts';

const { values } = parseArgs({
  options: { 'if-stale': { type: 'boolean', default: false }, out: { type: 'string' } },
});
const codePath = values.out ?? defaultBundlePath;
const where = relative(process.cwd(), codePath) || codePath;

const current = bundleState(codePath);
if (values['if-stale'] && current.state === 'fresh') process.exit(0);

const started = Date.now();
// Loaded only when building: the freshness check above should cost no more than reading the sources.
const { DefaultLogger } = await import('@temporalio/worker');
const manifest = await buildWorkflowBundle({ codePath, logger: new DefaultLogger('WARN') });
process.stdout.write(
  `workflow bundle ${where} built in ${((Date.now() - started) / 1000).toFixed(1)}s ` +
    `(key ${manifest.key}, ${manifest.sources.length} sources${current.state === 'fresh' ? '' : `; was ${current.state}: ${current.reason}`})\n`,
);
