// Rollout histories recorded from the scenario tests, replayed by test/replay so that a workflow
// change that would break a running rollout fails CI. Recording is on with CUTOVER_RECORD_HISTORIES=1.
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../stack/tools.ts';

export const historiesDir = join(repoRoot, 'test', 'replay', 'histories');
/**
 * One folder per shape of the workflow: v1 histories (the first engine, before `cutover-engine-v2`)
 * and v2 histories (engine v2 before `cutover-change-control`) are kept as recorded, so the paths
 * running rollouts take are proven to replay; new recordings go to the current folder.
 */
export const engineFolders = ['v1', 'v2', 'v2-change-control'] as const;
const currentEngineFolder = join(historiesDir, 'v2-change-control');

export async function recordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.CUTOVER_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  mkdirSync(currentEngineFolder, { recursive: true });
  // The proto JSON form `temporal workflow show --output json` writes, so the CLI can read it too.
  writeFileSync(join(currentEngineFolder, `${name}.json`), historyToJSON(history));
}
