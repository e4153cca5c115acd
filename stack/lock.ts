// One `stack up` or `stack down` at a time per state directory: two test runs starting the stack at
// once would otherwise both start a Temporal server, and the loser's pid file would hide the winner's
// process from `stack down`.
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, sleep } from './processes.ts';

export async function withStackLock<T>(
  stateDir: string,
  run: () => Promise<T>,
  timeoutMs = 300_000,
): Promise<T> {
  const file = join(stateDir, 'stack.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch {
      const holder = Number(readFileSync(file, 'utf8').trim() || 'NaN');
      // A lock whose holder died (a killed test run) is stale.
      if (!Number.isInteger(holder) || !isAlive(holder)) rmSync(file, { force: true });
      else if (Date.now() > deadline) throw new Error(`another stack command (pid ${holder}) holds ${file}`);
      else await sleep(250);
    }
  }
  try {
    return await run();
  } finally {
    rmSync(file, { force: true });
  }
}
