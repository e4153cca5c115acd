// Runs tasks by key, like client-go's workqueue: at most one task per key at a time, at most
// `concurrency` tasks in all, and bursts coalesced: while a key's task runs or waits, any number of
// new requests for it collapse into one more run. The watcher reconciles each canary this way, so a
// flurry of events never runs two reconciles of one canary at once, 1,000 canaries seen at start are
// reconciled in parallel rather than one by one, and the API server and Temporal see a bounded load.

interface KeyState {
  /** The task of the latest request: a rerun uses what was asked for last. */
  task: () => Promise<void>;
  /** Resolvers of the requests the next run covers. */
  waiting: (() => void)[];
  running: boolean;
  /** A request came while running: queue the key again when the run ends. */
  again: boolean;
}

export class KeyedQueue {
  private readonly keys = new Map<string, KeyState>();
  /** Keys waiting for a free slot, oldest first. */
  private readonly ready: string[] = [];
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly onError: (key: string, error: unknown) => void;
  private readonly concurrency: number;

  constructor(onError: (key: string, error: unknown) => void, options: { concurrency?: number } = {}) {
    this.onError = onError;
    this.concurrency = Math.max(1, options.concurrency ?? Number.POSITIVE_INFINITY);
  }

  /** Schedules `task` for `key`; resolves when a run that started after this request has finished. */
  enqueue(key: string, task: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const state = this.keys.get(key);
      if (state === undefined) {
        this.keys.set(key, { task, waiting: [resolve], running: false, again: false });
        this.ready.push(key);
      } else {
        state.task = task;
        state.waiting.push(resolve);
        // Already waiting for a slot: that run covers this request too.
        if (state.running) state.again = true;
      }
      this.pump();
    });
  }

  /** Keys known to the queue (running or waiting); it forgets a key once its last run ends. */
  get size(): number {
    return this.keys.size;
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (this.keys.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      const state = this.keys.get(key);
      if (state === undefined || state.running) continue;
      void this.run(key, state);
    }
  }

  private async run(key: string, state: KeyState): Promise<void> {
    state.running = true;
    state.again = false;
    this.running += 1;
    const covered = state.waiting;
    state.waiting = [];
    try {
      await state.task();
    } catch (error) {
      this.onError(key, error);
    } finally {
      this.running -= 1;
      state.running = false;
      for (const resolve of covered) resolve();
      if (state.again) {
        // Behind the keys already waiting: one busy canary cannot starve the others.
        this.ready.push(key);
      } else {
        this.keys.delete(key);
      }
      this.pump();
      if (this.keys.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
