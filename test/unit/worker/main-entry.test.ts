// `node worker/main.ts` runs the worker, as `cutover worker` does, rather than exiting 0 in silence.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../../../worker/main.ts', import.meta.url));

test('node worker/main.ts --help prints the worker usage', async () => {
  const { stdout } = await run(process.execPath, [main, '--help']);
  assert.match(stdout, /^Usage: cutover-worker \[flags\]/);
  assert.match(stdout, /--max-cached-workflows/);
});

test('node worker/main.ts with a bad flag fails with the worker error and exit code 2', async () => {
  await assert.rejects(
    run(process.execPath, [main, '--no-such-flag']),
    (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.equal(
        error.stderr,
        "cutover worker: unknown flag '--no-such-flag'; run with --help for the flags\n",
      );
      return true;
    },
  );
});
