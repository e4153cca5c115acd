// Every activity heartbeats while it runs, so a dead worker's step is noticed within its heartbeat
// timeout: at once, then once a second; one timer for a step that calls another activity's function;
// none in a local activity (which cannot heartbeat) or outside an activity.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { withLivenessHeartbeats, withLivenessHeartbeatsAll } from '../../../activities/heartbeats.ts';

function counted(info: ConstructorParameters<typeof MockActivityEnvironment>[0] = {}): {
  env: MockActivityEnvironment;
  beats: () => number;
} {
  const env = new MockActivityEnvironment(info);
  let beats = 0;
  env.on('heartbeat', () => beats++);
  return { env, beats: () => beats };
}

describe('liveness heartbeats', () => {
  it('heartbeats when the activity starts and once a second while it runs', async () => {
    const { env, beats } = counted();
    const slow = withLivenessHeartbeats(async () => {
      await sleep(2_300);
      return 'done';
    });
    assert.equal(await env.run(slow), 'done');
    assert.equal(beats(), 3, 'at 0, 1 and 2 s');
  });

  it('runs one timer for a step that calls another wrapped activity', async () => {
    const { env, beats } = counted();
    const inner = withLivenessHeartbeats(() => sleep(1_200));
    const outer = withLivenessHeartbeats(async () => {
      await inner();
      await inner();
    });
    await env.run(outer);
    assert.equal(beats(), 3, 'at 0, 1 and 2 s, not twice as many');
  });

  it('does not heartbeat a local activity, nor a call outside an activity; skips the ones that report progress', async () => {
    const local = counted({ isLocal: true });
    const { quick, reporting } = withLivenessHeartbeatsAll(
      { quick: () => sleep(10), reporting: () => sleep(10) },
      ['reporting'],
    );
    await local.env.run(quick);
    assert.equal(local.beats(), 0);
    await quick();
    const remote = counted();
    await remote.env.run(reporting);
    assert.equal(remote.beats(), 0, 'left to heartbeat itself');
    await remote.env.run(quick);
    assert.equal(remote.beats(), 1);
  });
});
