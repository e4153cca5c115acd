// `cutover list`: every Canary with its phase, revision, image and progress, and a link to its running
// rollout. In the context's namespace (kubectl's rule), `-n` another, `-A` all. Each backend can be
// down alone: without the API server the rollouts Temporal runs are listed, without Temporal the
// Canaries' own status is, each with a warning that says what is missing.
import { listCanaries, listRuns, queryStatus } from '../canary-lookup.ts';
import type { CanarySummary, WorkflowRun } from '../canary-lookup.ts';
import { renderList, temporalUiLink } from '../format.ts';
import type { ListRow } from '../format.ts';
import type { RolloutStatus } from '../../workflows/messages.ts';
import { CliError, ExitCode, print } from './context.ts';
import type { Command, CommandContext } from './context.ts';
import type { Client } from '@temporalio/client';

const options = {} as const;

export const listCommand: Command<typeof options> = {
  name: 'list',
  usage: 'cutover list [-n NAMESPACE | -A]',
  summary: 'every Canary: phase, revision, image, iteration, failed checks, age, running rollout',
  details: [
    "-n NAMESPACE   the Canaries of this Kubernetes namespace (default: the context's, else default)",
    '-A             the Canaries of every namespace',
  ].join('\n'),
  options,
  async run(ctx) {
    const namespace = ctx.options.allNamespaces ? undefined : ctx.defaultNamespace();
    const [canaries, temporal] = await Promise.allSettled([
      (async () => listCanaries(ctx.kube(), ctx.options.kubeconfig, namespace))(),
      (async () => {
        const client = await ctx.temporal();
        const running = await listRuns(client, ctx.options.address, {
          ...(namespace === undefined ? {} : { namespace }),
          running: true,
          rolloutsOnly: true,
        });
        return { client, running };
      })(),
    ]);
    if (canaries.status === 'rejected' && temporal.status === 'rejected') throw canaries.reason;
    if (canaries.status === 'rejected') {
      const reason = backendDown(canaries.reason, ExitCode.kubernetesUnreachable);
      ctx.warn(`${reason.message}; listing the rollouts Temporal has running instead`);
    }
    if (temporal.status === 'rejected') {
      const reason = backendDown(temporal.reason, ExitCode.temporalUnreachable);
      ctx.warn(`${reason.message}; listing the Canaries' own status instead`);
    }
    const running = temporal.status === 'fulfilled' ? temporal.value.running : [];
    // Newest first: when a newer revision is taking over, its rollout is the current one.
    const current = new Map<string, WorkflowRun>();
    for (const run of running) {
      const key = `${run.namespace}/${run.name}`;
      if (!current.has(key)) current.set(key, run);
    }
    const known: CanarySummary[] =
      canaries.status === 'fulfilled'
        ? canaries.value
        : [...current.values()].map((run) => fromRun(run)).sort(byName);
    const client = temporal.status === 'fulfilled' ? temporal.value.client : undefined;
    const images = client ? await servedImages(ctx, client, known, current, namespace) : new Map();
    const rows = await Promise.all(known.map((canary) => row(ctx, client, canary, current, images)));
    print(ctx, rows, () => renderList(rows, ctx.now()));
    return 0;
  },
};

async function row(
  ctx: CommandContext,
  client: Client | undefined,
  canary: CanarySummary,
  current: ReadonlyMap<string, WorkflowRun>,
  images: ReadonlyMap<string, string>,
): Promise<ListRow> {
  const run = current.get(`${canary.namespace}/${canary.name}`);
  const status: RolloutStatus | undefined =
    run && client ? await queryStatus(client, run.workflowId).catch(() => undefined) : undefined;
  const image =
    status?.images?.to ??
    run?.image ??
    images.get(`${canary.namespace}/${canary.name}/${canary.status.lastAppliedSpec}`);
  return {
    namespace: canary.namespace,
    name: canary.name,
    phase: status?.phase ?? canary.status.phase ?? run?.phase,
    revision: status?.revision ?? canary.status.lastAppliedSpec ?? run?.revision,
    ...(image === undefined ? {} : { image }),
    iteration: status?.iteration ?? canary.status.iterations,
    iterations: status?.iterations ?? canary.iterations,
    failedChecks: status?.failedChecks ?? canary.status.failedChecks,
    threshold: status?.threshold ?? canary.threshold,
    createdAt: canary.createdAt,
    lastTransitionTime: canary.status.lastTransitionTime,
    rollout: run && {
      workflowId: run.workflowId,
      runId: run.runId,
      url: temporalUiLink(ctx.options.uiUrl, ctx.options.temporalNamespace, run.workflowId, run.runId),
    },
  };
}

/** Revisions asked for in one visibility query: its length stays far below Temporal's query limit. */
const revisionsPerQuery = 50;

/**
 * The image of each idle Canary's current revision, from the search attribute CutoverImage of the
 * rollout that brought it: a few visibility queries for the whole list, none per Canary. Best effort:
 * a Canary whose rollout set no image, or a query that fails, shows none.
 */
async function servedImages(
  ctx: CommandContext,
  client: Client,
  canaries: readonly CanarySummary[],
  current: ReadonlyMap<string, WorkflowRun>,
  namespace: string | undefined,
): Promise<Map<string, string>> {
  const revisions = [
    ...new Set(
      canaries
        .filter((c) => !current.has(`${c.namespace}/${c.name}`))
        .map((c) => c.status.lastAppliedSpec)
        .filter((r): r is string => r !== undefined && r !== ''),
    ),
  ];
  const images = new Map<string, string>();
  for (let i = 0; i < revisions.length; i += revisionsPerQuery) {
    const runs = await listRuns(client, ctx.options.address, {
      ...(namespace === undefined ? {} : { namespace }),
      rolloutsOnly: true,
      revisions: revisions.slice(i, i + revisionsPerQuery),
    }).catch(() => []);
    for (const run of runs) {
      const key = `${run.namespace}/${run.name}/${run.revision}`;
      if (run.image && !images.has(key)) images.set(key, run.image);
    }
  }
  return images;
}

/** A Canary known only from its running rollout's search attributes (the API server is down). */
function fromRun(run: WorkflowRun): CanarySummary {
  return { namespace: run.namespace, name: run.name, threshold: 0, status: {} };
}

function byName(a: CanarySummary, b: CanarySummary): number {
  return a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

/** The failure if it is the backend being unreachable (a warning); anything else is the command's error. */
function backendDown(reason: unknown, code: ExitCode): CliError {
  if (reason instanceof CliError && reason.exitCode === code) return reason;
  throw reason;
}
