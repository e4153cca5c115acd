// Runs at most one task per key at a time and coalesces bursts: while a key's task runs, any number
// of new requests for it collapse into one more run afterwards. The watcher reconciles each canary
// this way, so a flurry of events never runs two reconciles of one canary at once.

export class KeyedQueue {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly onError: (key: string, error: unknown) => void;

  constructor(onError: (key: string, error: unknown) => void) {
    this.onError = onError;
  }

  /** Schedules `task` for `key`; resolves when the run that covers this request has finished. */
  enqueue(key: string, task: () => Promise<void>): Promise<void> {
    const current = this.running.get(key);
    if (current) {
      // The running loop sees the flag and runs once more before it resolves.
      this.again.add(key);
      return current;
    }
    const run = (async () => {
      do {
        this.again.delete(key);
        try {
          await task();
        } catch (error) {
          this.onError(key, error);
        }
      } while (this.again.has(key));
    })().finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  /** Resolves when nothing is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }
}
