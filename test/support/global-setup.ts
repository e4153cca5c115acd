// The test runner's global setup: reuse a running local stack, or start one for the suite and stop
// what was started when the suite ends (set CUTOVER_KEEP_STACK=1 to leave it up for exploring).
import { stackDown, stackUp } from '../../stack/stack.ts';
import type { Component } from '../../stack/stack.ts';

let started: Component[] = [];

export async function globalSetup(): Promise<void> {
  started = await stackUp();
}

export async function globalTeardown(): Promise<void> {
  if (started.length > 0 && process.env.CUTOVER_KEEP_STACK !== '1') await stackDown(started);
}
