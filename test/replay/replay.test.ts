// Replays the rollout histories recorded from the scenario tests against today's workflow code: a
// change that would make a running rollout take a different path fails here, not in production.
// Re-record after an intended, patched() change with CUTOVER_RECORD_HISTORIES=1 npm test.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineFolders, historiesDir } from '../support/histories.ts';
import { quietRuntime, workflowBundle } from '../support/worker.ts';

function historiesOf(engine: string): string[] {
  const dir = join(historiesDir, engine);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(engine, f))
    : [];
}

const files = engineFolders.flatMap(historiesOf);

for (const engine of engineFolders) {
  test(`recorded rollout histories of engine ${engine} exist`, () => {
    const found = historiesOf(engine).length;
    assert.ok(found >= 5, `expected recorded histories in ${join(historiesDir, engine)}, found ${found}`);
  });
}

test('every recorded rollout history replays against the current workflow code', async () => {
  quietRuntime();
  const histories = files.map((file) => ({
    workflowId: file.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(join(historiesDir, file), 'utf8'))),
  }));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: await workflowBundle() },
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});
