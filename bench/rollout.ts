// Benchmark: what a rollout costs beyond its configured analysis time, and how much history and how
// many activities each iteration adds. Runs real rollouts on the local stack (real Temporal, cluster,
// Prometheus) with two builtin metric checks and a load-test hook, and prints figures; it asserts
// nothing. Usage: npm run bench:rollout [-- --iterations 10 --interval 1s]
import { parseArgs } from 'node:util';
import { parseDuration } from '../canary/duration.ts';
import { stackUp } from '../stack/stack.ts';
import { startLoad } from '../test/support/load.ts';
import { canaryMetricsReady } from '../test/support/prometheus.ts';
import { setupScenario } from '../test/support/scenario.ts';
import { startWebhookReceiver } from '../test/support/webhook-receiver.ts';
import { startTestWorker } from '../test/support/worker.ts';
import type { TestWorker } from '../test/support/worker.ts';

const { values } = parseArgs({
  options: { iterations: { type: 'string', default: '10' }, interval: { type: 'string', default: '1s' } },
});
const iterations = Number(values.iterations);
const interval = values.interval ?? '1s';
const parsed = parseDuration(interval);
if (!parsed.ok) throw new Error(`--interval: ${parsed.reason}`);
const intervalMs = parsed.ms;

interface Measured {
  iterations: number;
  totalMs: number;
  analysisMs: number;
  events: number;
  activities: number;
  localActivities: number;
  timers: number;
  /** Billable Temporal actions, counted from the history as Temporal Cloud counts them. */
  actions: number;
}

async function measure(worker: TestWorker, n: number): Promise<Measured> {
  const hooks = await startWebhookReceiver();
  hooks.handle('/acceptance', canaryMetricsReady);
  const scenario = await setupScenario(worker, `bench-${n}`, {
    interval,
    iterations: n,
    threshold: 5,
    metrics: [
      { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '30s' },
      { name: 'request-duration', thresholdRange: { max: 500 }, interval: '30s' },
    ],
    webhooks: [
      { name: 'acceptance-test', type: 'pre-rollout', url: hooks.url('/acceptance'), timeout: '25s' },
      { name: 'load-test', type: 'rollout', url: hooks.url('/load') },
    ],
  });
  const load = startLoad('podinfo-canary', scenario.namespace, '/', 20, 600_000);
  try {
    await scenario.changeTarget([`--ui-message=bench-${n}`]);
    const handle = await scenario.startRollout();
    const result = await handle.result();
    if (result.outcome !== 'promoted') throw new Error(`rollout ${result.outcome}: ${result.reason}`);
    const description = await handle.describe();
    const totalMs = (description.closeTime?.getTime() ?? 0) - description.startTime.getTime();
    const history = (await handle.fetchHistory()).events ?? [];
    // The acceptance hook waits for the first scrape of the green pods; that is the cluster, not Cutover.
    // It ends one interval before the first tick calls the load-test hook.
    const acceptance = hooks.callsTo('/acceptance')[0]?.at;
    const firstTick = hooks.callsTo('/load')[0]?.at;
    const waitedMs =
      acceptance !== undefined && firstTick !== undefined
        ? Math.max(0, firstTick - acceptance - intervalMs)
        : 0;
    const count = (has: (e: HistoryEvent) => unknown): number => history.filter((e) => has(e)).length;
    const activities = count((e) => e.activityTaskScheduledEventAttributes);
    const localActivities = count((e) => e.markerRecordedEventAttributes);
    const timers = count((e) => e.timerStartedEventAttributes);
    return {
      iterations: n,
      totalMs: totalMs - waitedMs,
      analysisMs: n * intervalMs,
      events: history.length,
      activities,
      localActivities,
      timers,
      // Started, each activity, local activity, timer, search-attribute upsert and signal is one action.
      actions:
        1 +
        activities +
        localActivities +
        timers +
        count((e) => e.upsertWorkflowSearchAttributesEventAttributes) +
        count((e) => e.workflowExecutionSignaledEventAttributes) +
        count((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes),
    };
  } finally {
    await load.stop();
    await scenario.remove();
    await hooks.close();
  }
}

type HistoryEvent = NonNullable<
  Awaited<ReturnType<ReturnType<TestWorker['client']['workflow']['getHandle']>['fetchHistory']>>['events']
>[number];

await stackUp();
const worker = await startTestWorker('bench');
try {
  const small = await measure(worker, 2);
  const full = await measure(worker, iterations);
  const perIteration = (key: 'events' | 'activities' | 'localActivities' | 'timers' | 'actions'): string =>
    ((full[key] - small[key]) / (full.iterations - small.iterations)).toFixed(1);
  const line = (m: Measured): string =>
    `  iterations=${m.iterations} interval=${interval}: total ${(m.totalMs / 1000).toFixed(2)}s, ` +
    `analysis ${(m.analysisMs / 1000).toFixed(2)}s, overhead ${((m.totalMs - m.analysisMs) / 1000).toFixed(2)}s; ` +
    `${m.events} history events, ${m.activities} activities, ${m.localActivities} local activities, ${m.timers} timers, ${m.actions} actions`;
  process.stdout.write(
    'rollout benchmark (2 builtin metrics, 1 pre-rollout and 1 rollout hook, real stack)\n',
  );
  process.stdout.write(`${line(small)}\n${line(full)}\n`);
  process.stdout.write(
    `  per iteration: ${perIteration('events')} history events, ${perIteration('actions')} actions (${perIteration('activities')} activities, ${perIteration('localActivities')} local activities, ${perIteration('timers')} timers)\n`,
  );
  process.stdout.write(
    `  overhead (total - iterations × interval, acceptance-hook wait excluded): ${((full.totalMs - full.analysisMs) / 1000).toFixed(2)}s\n`,
  );
} finally {
  await worker.stop();
}
