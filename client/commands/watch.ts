// `cutover watch NS/NAME`: follows the running rollout until it ends. On a terminal, one frame
// redrawn in place; otherwise (or with --output json) one JSON line per change. Exit 0 when the
// revision is promoted, 1 when it is not. A rollout superseded by a newer revision is followed on.
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { getCanary, noRunningRollout, queryStatus, runningRollout } from '../canary-lookup.ts';
import type { WorkflowRun } from '../canary-lookup.ts';
import { formatDuration, renderWatchFrame, temporalUiLink } from '../format.ts';
import type { RunningView } from '../format.ts';
import type { RolloutResult } from '../../workflows/messages.ts';
import { canaryRefOf } from './arguments.ts';
import type { CanaryRef } from './arguments.ts';
import { CliError, ExitCode, unlessKubernetesDown } from './context.ts';
import type { Command, CommandContext } from './context.ts';

const options = {
  interval: { type: 'string' },
} as const;

type Ending = { outcome: string; reason: string; result?: RolloutResult };

/** How long to look for the rollout that superseded the one being watched. */
const successorGraceMs = 10_000;

export const watchCommand: Command<typeof options> = {
  name: 'watch',
  usage: 'cutover watch NAMESPACE/NAME [--interval MS]',
  summary: 'follow the running rollout live until it ends (exit 0 promoted, 1 not)',
  details: '--interval MS   how often to ask the rollout for its status (default 500)',
  options,
  async run(ctx, { values, positionals }) {
    const ref = canaryRefOf(ctx, positionals);
    const intervalMs = values.interval === undefined ? 500 : Number(values.interval);
    if (!Number.isFinite(intervalMs) || intervalMs < 50) {
      throw new CliError(
        ExitCode.usage,
        `--interval must be a number of milliseconds >= 50, not "${values.interval}"`,
      );
    }
    const client = await ctx.temporal();
    const [, first] = await Promise.all([
      unlessKubernetesDown(
        ctx,
        async () => getCanary(ctx.kube(), ctx.options.kubeconfig, ref),
        'following the rollout from Temporal alone',
      ),
      runningRollout(client, ctx.options.address, ref),
    ]);
    if (!first) throw noRunningRollout(ref);
    const screen = new Screen(ctx, ctx.stdout.isTTY && ctx.options.output === 'text');
    let run: WorkflowRun = first;
    for (;;) {
      const ending = await follow(ctx, client, run, screen, intervalMs);
      if (ending.outcome === 'superseded') {
        const next = await successor(ctx, client, ref, run.workflowId);
        if (next) {
          screen.event({
            type: 'superseded',
            workflowId: run.workflowId,
            next: next.workflowId,
            reason: ending.reason,
          });
          run = next;
          continue;
        }
      }
      screen.event({ type: 'end', workflowId: run.workflowId, ...ending });
      return ending.outcome === 'promoted' ? ExitCode.ok : ExitCode.notPromoted;
    }
  },
};

/** How often a lost Temporal is tried again. */
const retryEveryMs = 2_000;

/** Polls one rollout's status until its result arrives; a lost connection is said and retried. */
async function follow(
  ctx: CommandContext,
  client: Client,
  run: WorkflowRun,
  screen: Screen,
  intervalMs: number,
): Promise<Ending> {
  // Without a run id the handle follows continue-as-new to the rollout's final result.
  const handle = client.workflow.getHandle(run.workflowId);
  const outage = new Outage(ctx, screen);
  let ending: Ending | undefined;
  let fatal: { error: unknown } | undefined;
  let settled: Promise<void> | undefined;
  const awaitResult = (): Promise<void> =>
    handle.result().then(
      (result: RolloutResult) => void (ending = { outcome: result.outcome, reason: result.reason, result }),
      (error: unknown) => {
        if (error instanceof WorkflowFailedError) {
          ending = { outcome: 'failed', reason: error.cause?.message ?? error.message };
        } else if (isConnectionLost(error)) {
          outage.lost(error);
          settled = undefined; // asked again on the next round
        } else {
          fatal = { error };
        }
      },
    );
  const url = temporalUiLink(ctx.options.uiUrl, ctx.options.temporalNamespace, run.workflowId, run.runId);
  while (!ending) {
    if (fatal) throw fatal.error;
    settled ??= awaitResult();
    const status = await queryStatus(client, run.workflowId).then(
      (answer) => {
        outage.restored();
        return answer;
      },
      (error: unknown) => {
        if (isConnectionLost(error)) outage.lost(error);
        return undefined;
      },
    );
    if (ending) break;
    if (status) screen.status({ workflowId: run.workflowId, runId: run.runId, url, status });
    const pause = new Promise((r) => setTimeout(r, outage.active ? retryEveryMs : intervalMs));
    await Promise.race([settled ?? pause, pause]);
  }
  outage.restored();
  return ending;
}

/** A gRPC UNAVAILABLE (the frontend is down or the network is cut), at any depth of causes. */
export function isConnectionLost(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === 14) return true;
    if (/UNAVAILABLE|ECONNREFUSED|ECONNRESET|failed to connect|Connection dropped/i.test(e.message))
      return true;
  }
  return false;
}

/** Says once that Temporal was lost and that watch keeps trying, and when it is back. */
class Outage {
  private since: number | undefined;
  private readonly ctx: CommandContext;
  private readonly screen: Screen;

  constructor(ctx: CommandContext, screen: Screen) {
    this.ctx = ctx;
    this.screen = screen;
  }

  get active(): boolean {
    return this.since !== undefined;
  }

  lost(error: unknown): void {
    if (this.since !== undefined) return;
    this.since = Date.now();
    const cause = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    this.screen.notice(
      `lost Temporal at ${this.ctx.options.address} (${cause}); retrying every ${retryEveryMs / 1000}s (Ctrl-C to stop)`,
    );
  }

  restored(): void {
    if (this.since === undefined) return;
    const after = formatDuration(Date.now() - this.since);
    this.since = undefined;
    this.screen.notice(
      `Temporal at ${this.ctx.options.address} answers again (after ${after}); following on`,
    );
  }
}

async function successor(
  ctx: CommandContext,
  client: Client,
  ref: CanaryRef,
  previous: string,
): Promise<WorkflowRun | undefined> {
  const deadline = Date.now() + successorGraceMs;
  while (Date.now() < deadline) {
    const next = await runningRollout(client, ctx.options.address, ref);
    if (next && next.workflowId !== previous) return next;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

type WatchEvent =
  | { type: 'superseded'; workflowId: string; next: string; reason: string }
  | ({ type: 'end'; workflowId: string } & Ending);

/** Where frames go: redrawn in place on a terminal, JSON lines elsewhere. */
class Screen {
  private readonly ctx: CommandContext;
  private readonly live: boolean;
  private drawnLines = 0;
  private lastJson = '';
  private lastView: RunningView | undefined;

  constructor(ctx: CommandContext, live: boolean) {
    this.ctx = ctx;
    this.live = live;
  }

  status(view: RunningView): void {
    this.lastView = view;
    if (this.live) {
      this.redraw(renderWatchFrame(view, this.ctx.now()));
      return;
    }
    const json = JSON.stringify(view.status);
    if (json === this.lastJson) return;
    this.lastJson = json;
    this.ctx.stdout.write(
      JSON.stringify({ type: 'status', at: this.ctx.now().toISOString(), ...view }) + '\n',
    );
  }

  /** A line about the watch itself (a lost connection): on stderr, below the frame on a terminal. */
  notice(text: string): void {
    if (this.live) {
      this.drawnLines = 0;
      this.ctx.stdout.write('\n');
    }
    this.ctx.warn(text);
  }

  event(event: WatchEvent): void {
    if (!this.live) {
      this.ctx.stdout.write(JSON.stringify({ ...event, at: this.ctx.now().toISOString() }) + '\n');
      return;
    }
    this.drawnLines = 0;
    if (event.type === 'superseded') {
      this.ctx.stdout.write(`Superseded: ${event.reason}\nFollowing ${event.next}\n\n`);
      return;
    }
    const result = event.result;
    const since = this.lastView
      ? ` after ${formatDuration(this.ctx.now().getTime() - new Date(this.lastView.status.startedAt).getTime())}`
      : '';
    const headline =
      event.outcome === 'promoted'
        ? `Promoted${since}: ${event.reason}`
        : `Not promoted (${event.outcome})${since}: ${event.reason}`;
    const counts = result
      ? `\n  iterations ${result.iteration}/${result.iterations}, failed checks ${result.failedChecks}` +
        result.manualActions.map((a) => `\n  ${a.action} by ${a.by}: ${a.reason}`).join('')
      : '';
    const url = this.lastView ? `\n  Temporal UI: ${this.lastView.url}` : '';
    this.ctx.stdout.write(`\n${headline}${counts}${url}\n`);
  }

  private redraw(frame: string): void {
    // Move up over the previous frame and clear it, then draw the new one.
    // Lines are cut to the terminal's width, so that none wraps and the count stays right.
    const columns = this.ctx.stdout.columns;
    const width = columns && columns >= 20 ? columns - 1 : Infinity;
    const cut = frame
      .split('\n')
      .map((line) => (line.length > width ? line.slice(0, width - 1) + '…' : line))
      .join('\n');
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[J` : '';
    this.ctx.stdout.write(up + cut);
    this.drawnLines = frame.split('\n').length - 1;
  }
}
