import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, temporalLogger } from '../../../worker/logger.ts';

function collect(level: Parameters<typeof createLogger>[0]) {
  const lines: string[] = [];
  const logger = createLogger(level, {
    write: (line) => lines.push(line),
    now: () => new Date('2026-01-02T03:04:05.678Z'),
  });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, parsed };
}

test("one JSON object per line, pino's: level, time, the fields, msg", () => {
  const { logger, lines } = collect('info');
  logger.info('rollout started', {
    canary: 'podinfo',
    namespace: 'shop',
    revision: 'abc123',
    workflowId: 'w-1',
  });
  assert.deepEqual(lines, [
    '{"level":"info","time":"2026-01-02T03:04:05.678Z","canary":"podinfo","namespace":"shop","revision":"abc123","workflowId":"w-1","msg":"rollout started"}\n',
  ]);
});

test('lines below the level are dropped', () => {
  const { logger, parsed } = collect('warn');
  logger.debug('d');
  logger.info('i');
  logger.warn('w');
  logger.error('e');
  assert.deepEqual(
    parsed().map((line) => line.level),
    ['warn', 'error'],
  );
  assert.equal(logger.isEnabled('info'), false);
  assert.equal(logger.isEnabled('error'), true);
});

test('a child carries the canary on every line; a line may add or override fields', () => {
  const { logger, parsed } = collect('debug');
  const rollout = logger.child({ canary: 'podinfo', namespace: 'shop' }).child({ revision: 'r1' });
  rollout.debug('checking', { metric: 'request-success-rate' });
  rollout.info('retrying', { revision: 'r2' });
  assert.deepEqual(parsed(), [
    {
      time: '2026-01-02T03:04:05.678Z',
      level: 'debug',
      msg: 'checking',
      canary: 'podinfo',
      namespace: 'shop',
      revision: 'r1',
      metric: 'request-success-rate',
    },
    {
      time: '2026-01-02T03:04:05.678Z',
      level: 'info',
      msg: 'retrying',
      canary: 'podinfo',
      namespace: 'shop',
      revision: 'r2',
    },
  ]);
});

test('errors keep message, stack and cause; fields cannot overwrite time, level or msg', () => {
  const { logger, parsed } = collect('info');
  logger.error('watch failed', {
    error: new Error('connection reset', { cause: new Error('ECONNRESET') }),
    msg: 'sneaky',
    level: 'debug',
    count: 3n,
    skipped: undefined,
  });
  const [line] = parsed();
  assert.equal(line?.msg, 'watch failed');
  assert.equal(line?.level, 'error');
  assert.equal(line?.['field.msg'], 'sneaky');
  assert.equal(line?.['field.level'], 'debug');
  assert.equal(line?.count, '3');
  assert.equal('skipped' in (line ?? {}), false);
  const error = line?.error as { name: string; message: string; stack: string; cause: { message: string } };
  assert.equal(error.name, 'Error');
  assert.equal(error.message, 'connection reset');
  assert.match(error.stack, /connection reset\n\s+at /);
  assert.equal(error.cause.message, 'ECONNRESET');
});

test('cyclic fields do not break the line', () => {
  const { logger, parsed } = collect('info');
  const cyclic: Record<string, unknown> = { name: 'a' };
  cyclic.self = cyclic;
  logger.info('cycle', { cyclic });
  assert.equal(parsed().length, 1);
});

test("the Temporal SDK's logger writes the same lines and keeps its metadata", () => {
  const { logger, parsed } = collect('info');
  const sdk = temporalLogger(logger.child({ component: 'worker' }));
  sdk.info('Activity completed', {
    sdkComponent: 'activity',
    workflowId: 'cutover-shop-podinfo-abc',
    runId: 'run-1',
    activityType: 'scaleDeployment',
    taskQueue: 'cutover',
  });
  sdk.trace('noise');
  sdk.debug('noise');
  sdk.log('WARN', 'Worker state changed', { state: 'DRAINING' });
  sdk.error('Activity failed', { error: new Error('boom') });
  const lines = parsed();
  assert.deepEqual(lines[0], {
    time: '2026-01-02T03:04:05.678Z',
    level: 'info',
    msg: 'Activity completed',
    component: 'worker',
    sdkComponent: 'activity',
    workflowId: 'cutover-shop-podinfo-abc',
    runId: 'run-1',
    activityType: 'scaleDeployment',
    taskQueue: 'cutover',
  });
  assert.deepEqual(
    lines.map((line) => [line.level, line.msg]),
    [
      ['info', 'Activity completed'],
      ['warn', 'Worker state changed'],
      ['error', 'Activity failed'],
    ],
  );
});

test("Core's forwarded lines keep their own time; the SDK's symbol keys stay out", () => {
  const { logger, parsed } = collect('debug');
  const sdk = temporalLogger(logger);
  const nanos = BigInt(Date.parse('2025-12-31T23:59:59.123Z')) * 1_000_000n + 456n;
  sdk.trace('poll', { [Symbol.for('log_timestamp')]: nanos, sdkComponent: 'core' });
  assert.deepEqual(parsed(), [
    { time: '2025-12-31T23:59:59.123Z', level: 'debug', msg: 'poll', sdkComponent: 'core' },
  ]);
});

test('writes to stdout by default', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `import { createLogger } from ${JSON.stringify(new URL('../../../worker/logger.ts', import.meta.url).href)};
createLogger('info').info('hello', { canary: 'podinfo' });`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(result.stderr, '');
  const line = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(line.msg, 'hello');
  assert.equal(line.canary, 'podinfo');
});
