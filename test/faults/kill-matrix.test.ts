// kill -9 of the real `cutover worker` at every phase of a rollout, driven through the Kubernetes API
// only: each point ends in the right state (phase, primary template, target replicas, apex selector in
// switch mode) with exactly one promotion. Prints the matrix with the time each kill added over the
// same rollout unkilled (goal: at most 5 s; a figure, not an assertion).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot } from '../../stack/tools.ts';
import { formatMatrix, killPoints, runRollout, switchMode } from './support/kill-matrix.ts';
import type { Group, KillPoint, MatrixRow, RunResult } from './support/kill-matrix.ts';

const baselines = new Map<Group, Promise<RunResult>>();
/** 1 in the CI subset, where time is short; 2 by default. */
const baselineRuns = Number(process.env.CUTOVER_FAULTS_BASELINE_RUNS ?? 2);

/**
 * The group's rollout without a kill, shared by its points: run twice and the faster kept, because
 * on a busy machine one run can take twice as long as the next and the added seconds are differences.
 */
function baseline(group: Group): Promise<RunResult> {
  let run = baselines.get(group);
  if (!run) {
    run = (async () => {
      const first = await runRollout(group);
      if (first.problems.length > 0 || baselineRuns < 2) return first;
      const second = await runRollout(group);
      return second.problems.length === 0 && second.durationMs < first.durationMs ? second : first;
    })();
    baselines.set(group, run);
  }
  return run;
}

const rows = new Map<KillPoint, MatrixRow>();
const seconds = (ms: number): string => (ms / 1000).toFixed(1);

describe('kill -9 of the worker at every phase of a rollout', { concurrency: 2 }, () => {
  after(() => {
    const ordered = killPoints.filter((p) => rows.has(p)).map((p) => rows.get(p) as MatrixRow);
    if (ordered.length === 0) return;
    const table = formatMatrix(ordered);
    const dir = join(repoRoot, 'test-artifacts', 'faults');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'kill-matrix.md'), `${table}\n`);
    process.stdout.write(`\nkill-point matrix (also in test-artifacts/faults/kill-matrix.md):\n${table}\n`);
  });

  for (const point of killPoints) {
    const promotion = point.group.expected.promotions === 1 ? 'with one promotion' : 'with no promotion';
    const title = `${point.group.name}: ${point.name} ends ${point.group.expected.phase} ${promotion}${point.ci ? ' (ci)' : ''}`;
    test(title, { timeout: 600_000, ...(point.group.todo ? { todo: point.group.todo } : {}) }, async () => {
      const base = await baseline(point.group);
      assert.deepEqual(base.problems, [], `the unkilled ${point.group.name} rollout itself is wrong`);
      if (point.group === switchMode) {
        assert.ok(
          base.events.some((m) => m.startsWith('Switching traffic of')),
          `the worker never switched the apex: ${switchMode.todo}`,
        );
      }
      const run = await runRollout(point.group, point);
      const added = run.durationMs - base.durationMs - (point.downtimeMs ?? 0);
      const hookNotes = run.receiver
        .filter((r) => r.calls > 0 && ['/pre', '/post'].includes(r.path))
        .map((r) => `${r.path} ×${r.calls}${r.distinctKeys < r.calls ? ` (${r.distinctKeys} keys)` : ''}`);
      rows.set(point, {
        point: `${point.group.name}: ${point.name}`,
        survived: run.problems.length === 0,
        end:
          `${run.end.phase}, primary ${run.end.primaryMessage ?? 'v1'}, target ${run.end.targetReplicas}` +
          (run.end.apexSelector && point.group === switchMode ? `, apex ${run.end.apexSelector.app}` : ''),
        singlePromotion:
          point.group.expected.promotions === 1
            ? run.end.promotionEvents === 1 && run.primaryChanges === 1
              ? 'yes'
              : `NO (${run.end.promotionEvents} events, ${run.primaryChanges} changes)`
            : run.end.promotionEvents === 0
              ? 'none (expected)'
              : `NO (${run.end.promotionEvents})`,
        addedSeconds: seconds(added),
        beyondStartSeconds: seconds(added - run.workerStartMs.reduce((sum, ms) => sum + ms, 0)),
        handoverSeconds: run.handoverMs.map((ms) => (ms === undefined ? '—' : seconds(ms))).join('+'),
        note: [
          `killed in ${run.killedAt.map((k) => `${k.phase || '?'}${k.rolloutRunning ? '' : ' (no rollout running)'}`).join(', ')}`,
          `baseline ${seconds(base.durationMs)} s`,
          `worker start ${run.workerStartMs.map(seconds).join('+')} s`,
          ...(point.downtimeMs ? [`minus ${seconds(point.downtimeMs)} s without a worker`] : []),
          ...hookNotes,
        ].join('; '),
      });
      assert.deepEqual(run.problems, [], `after the kill at "${point.name}"`);
    });
  }
});
