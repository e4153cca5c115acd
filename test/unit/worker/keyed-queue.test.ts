import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../../../worker/keyed-queue.ts';

function tracker() {
  let inFlight = 0;
  let peak = 0;
  const perKey = new Map<string, number>();
  const runs: string[] = [];
  return {
    runs,
    get peak() {
      return peak;
    },
    task(key: string, ms = 5) {
      return async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
        assert.equal(perKey.get(key), 1, `two runs of ${key} at once`);
        runs.push(key);
        await sleep(ms);
        perKey.set(key, (perKey.get(key) ?? 1) - 1);
        inFlight -= 1;
      };
    },
  };
}

test('runs different keys in parallel, never more than the concurrency', async () => {
  const queue = new KeyedQueue(() => assert.fail('no task fails'), { concurrency: 8 });
  const t = tracker();
  await Promise.all(Array.from({ length: 100 }, (_, i) => queue.enqueue(`k${i}`, t.task(`k${i}`))));
  assert.equal(t.runs.length, 100);
  assert.equal(t.peak, 8);
  assert.equal(queue.size, 0, 'a key is forgotten once its last run ends');
});

test('one run per key at a time; a burst while it runs collapses into one more run', async () => {
  const queue = new KeyedQueue(() => assert.fail('no task fails'), { concurrency: 4 });
  const t = tracker();
  const first = queue.enqueue('a', t.task('a', 20));
  await sleep(1);
  const burst = Array.from({ length: 10 }, () => queue.enqueue('a', t.task('a')));
  await Promise.all([first, ...burst]);
  assert.deepEqual(t.runs, ['a', 'a']);
});

test('a request while the key waits for a slot is covered by that run', async () => {
  const queue = new KeyedQueue(() => assert.fail('no task fails'), { concurrency: 1 });
  const t = tracker();
  const blocker = queue.enqueue('busy', t.task('busy', 10));
  const waits = [queue.enqueue('b', t.task('b')), queue.enqueue('b', t.task('b'))];
  await Promise.all([blocker, ...waits]);
  assert.deepEqual(t.runs, ['busy', 'b']);
});

test('a rerun goes behind keys already waiting, so a busy key cannot starve the others', async () => {
  const queue = new KeyedQueue(() => assert.fail('no task fails'), { concurrency: 1 });
  const t = tracker();
  const a = queue.enqueue('a', t.task('a', 10));
  const b = queue.enqueue('b', t.task('b'));
  await sleep(1);
  const again = queue.enqueue('a', t.task('a'));
  await Promise.all([a, b, again]);
  assert.deepEqual(t.runs, ['a', 'b', 'a']);
});

test('a failing task is reported and the queue goes on; idle() waits for everything', async () => {
  const failures: string[] = [];
  const queue = new KeyedQueue((key) => failures.push(key), { concurrency: 2 });
  const t = tracker();
  void queue.enqueue('bad', async () => {
    throw new Error('boom');
  });
  for (let i = 0; i < 5; i++) void queue.enqueue(`k${i}`, t.task(`k${i}`));
  await queue.idle();
  assert.deepEqual(failures, ['bad']);
  assert.equal(t.runs.length, 5);
  await queue.idle(); // nothing left: resolves at once
});
