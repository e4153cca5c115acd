// `cutover history NS/NAME`: every rollout (and the initialization) of a canary from Temporal's
// visibility, with its outcome and who steered it; `--rollout ID` tells one of them step by step
// from its event history.
import type { Client } from '@temporalio/client';
import { getCanary, listRuns, runEnding, temporalFailure } from '../canary-lookup.ts';
import type { WorkflowRun } from '../canary-lookup.ts';
import { renderHistory, temporalUiLink } from '../format.ts';
import type { HistoryEntry } from '../format.ts';
import { historySteps, renderSteps } from '../history-steps.ts';
import { decodedHistoryEvents } from '../history-payloads.ts';
import type { Step } from '../history-steps.ts';
import { canaryWorkflowPrefix } from '../workflow-ids.ts';
import { canaryRefOf } from './arguments.ts';
import type { CanaryRef } from './arguments.ts';
import { CliError, ExitCode, print, unlessKubernetesDown } from './context.ts';
import type { Command, CommandContext } from './context.ts';

const options = {
  rollout: { type: 'string' },
  limit: { type: 'string' },
} as const;

export const historyCommand: Command<typeof options> = {
  name: 'history',
  usage: 'cutover history NAMESPACE/NAME [--rollout ID] [--limit N]',
  summary: 'past rollouts with outcome and who steered them; --rollout ID: every step of one',
  details: [
    '--rollout ID   a workflow id, or a revision (or its first characters), or "init"',
    '--limit N      the newest N rollouts (default 20)',
  ].join('\n'),
  options,
  async run(ctx, { values, positionals }) {
    const ref = canaryRefOf(ctx, positionals);
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      throw new CliError(ExitCode.usage, `--limit must be a whole number >= 1, not "${values.limit}"`);
    }
    const client = await ctx.temporal();
    const runs = await listRuns(client, ctx.options.address, { canary: ref });
    if (runs.length === 0) {
      // No history: say whether the canary exists at all (a deleted canary keeps its history).
      await unlessKubernetesDown(
        ctx,
        async () => getCanary(ctx.kube(), ctx.options.kubeconfig, ref),
        'not checking that the Canary exists',
      );
    }
    if (values.rollout !== undefined) return showRollout(ctx, client, ref, runs, values.rollout);
    const entries = await Promise.all(
      chains(runs)
        .slice(0, limit)
        .map((chain) => entry(ctx, client, chain)),
    );
    print(ctx, entries, () => renderHistory(`${ref.namespace}/${ref.name}`, entries));
    return 0;
  },
};

/** Runs grouped by workflow id (continue-as-new makes several), newest workflow first, oldest run first. */
function chains(runs: readonly WorkflowRun[]): WorkflowRun[][] {
  const byId = new Map<string, WorkflowRun[]>();
  for (const run of runs) byId.set(run.workflowId, [...(byId.get(run.workflowId) ?? []), run]);
  return [...byId.values()]
    .map((chain) => [...chain].sort((a, b) => a.startTime.getTime() - b.startTime.getTime()))
    .sort((a, b) => (b[0]?.startTime.getTime() ?? 0) - (a[0]?.startTime.getTime() ?? 0));
}

async function entry(ctx: CommandContext, client: Client, chain: WorkflowRun[]): Promise<HistoryEntry> {
  const first = chain[0] as WorkflowRun;
  const last = chain[chain.length - 1] as WorkflowRun;
  const ending = await runEnding(client, last);
  // Steering before a continue-as-new is carried into the next run, so the last run has it all.
  return {
    workflowId: last.workflowId,
    runId: last.runId,
    kind: last.kind,
    revision: last.revision,
    ...((last.image ?? first.image) === undefined ? {} : { image: last.image ?? first.image }),
    startTime: first.startTime.toISOString(),
    closeTime: last.closeTime?.toISOString(),
    outcome: ending.outcome,
    reason: ending.reason,
    manualActions: ending.manualActions,
    url: temporalUiLink(ctx.options.uiUrl, ctx.options.temporalNamespace, last.workflowId, last.runId),
  };
}

/** Which workflow `--rollout` names: an id, a revision prefix, or "init". */
export function resolveRollout(ref: CanaryRef, runs: readonly WorkflowRun[], wanted: string): string {
  const ids = [...new Set(runs.map((r) => r.workflowId))];
  if (wanted.includes('/')) {
    if (!wanted.startsWith(canaryWorkflowPrefix(ref.namespace, ref.name)) || !ids.includes(wanted)) {
      throw new CliError(
        ExitCode.rolloutNotFound,
        `no workflow ${wanted} for ${ref.namespace}/${ref.name}: cutover history ${ref.namespace}/${ref.name} lists them`,
      );
    }
    return wanted;
  }
  const matches = [
    ...new Set(
      runs
        .filter((r) =>
          wanted === 'init'
            ? r.kind === 'initialize'
            : r.kind === 'rollout' && r.revision?.startsWith(wanted),
        )
        .map((r) => r.workflowId),
    ),
  ];
  if (matches.length === 1) return matches[0] as string;
  if (matches.length === 0) {
    throw new CliError(
      ExitCode.rolloutNotFound,
      `no rollout of ${ref.namespace}/${ref.name} has revision ${wanted}: cutover history ${ref.namespace}/${ref.name} lists them`,
    );
  }
  throw new CliError(
    ExitCode.usage,
    `"${wanted}" matches several workflows: ${matches.join(', ')}; give more of it`,
  );
}

async function showRollout(
  ctx: CommandContext,
  client: Client,
  ref: CanaryRef,
  runs: readonly WorkflowRun[],
  wanted: string,
): Promise<number> {
  const workflowId = resolveRollout(ref, runs, wanted);
  const chain = chains(runs.filter((r) => r.workflowId === workflowId))[0] ?? [];
  const perRun: { runId: string; url: string; steps: Step[] }[] = [];
  for (const run of chain) {
    let events;
    try {
      events = (await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events ?? [];
    } catch (error) {
      throw temporalFailure(ctx.options.address, error);
    }
    // Sealed payloads (an encrypting worker) are opened with the key ring given to the CLI.
    events = await decodedHistoryEvents(client, events);
    perRun.push({
      runId: run.runId,
      url: temporalUiLink(ctx.options.uiUrl, ctx.options.temporalNamespace, run.workflowId, run.runId),
      steps: historySteps(events),
    });
  }
  print(ctx, { workflowId, runs: perRun }, () =>
    perRun
      .map((run) => `${workflowId}  run ${run.runId}\n${run.url}\n\n${renderSteps(run.steps)}`)
      .join('\n'),
  );
  return 0;
}
