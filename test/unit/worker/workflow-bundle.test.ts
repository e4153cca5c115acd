// When the prebuilt workflow bundle counts as fresh: its manifest's key is a hash of the workflow
// sources it is built from (value imports only) and of the packages they import.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  bundleInputs,
  bundleState,
  workflowCodeOption,
  workflowsPath,
} from '../../../worker/workflow-bundle.ts';

test('the key covers the workflow sources reachable by value imports, and the SDK versions', () => {
  const inputs = bundleInputs();
  assert.equal(inputs.key, bundleInputs().key, 'the same sources make the same key');
  assert.ok(inputs.sources.includes('workflows/index.ts'));
  assert.ok(
    inputs.sources.every((file) => !file.startsWith('activities/')),
    `activities are imported as types only and erased: ${inputs.sources.join(', ')}`,
  );
  assert.ok('@temporalio/workflow' in inputs.packages && '@temporalio/worker' in inputs.packages);
});

test('missing, stale and fresh bundles; a worker falls back to bundling in process and says why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bundle-'));
  const codePath = join(dir, 'workflow-bundle.js');
  assert.equal(bundleState(codePath).state, 'missing');

  writeFileSync(codePath, '// bundle');
  const manifest = { ...bundleInputs(), builtAt: '2026-01-01T00:00:00.000Z' };
  writeFileSync(join(dir, 'workflow-bundle.json'), JSON.stringify({ ...manifest, key: 'older' }));
  const stale = bundleState(codePath);
  assert.equal(stale.state, 'stale');
  assert.match(stale.state === 'stale' ? stale.reason : '', /changed since it was built at 2026-01-01/);

  const warnings: string[] = [];
  assert.deepEqual(
    workflowCodeOption((message) => warnings.push(message), codePath),
    { workflowsPath },
  );
  assert.match(warnings[0] ?? '', /stale; bundling in process .* run npm run build:workflows/);

  writeFileSync(join(dir, 'workflow-bundle.json'), JSON.stringify(manifest));
  assert.equal(bundleState(codePath).state, 'fresh');
  assert.deepEqual(
    workflowCodeOption(() => assert.fail('a fresh bundle needs no warning'), codePath),
    { workflowBundle: { codePath } },
  );
});
