// `cutover list`: every Canary with its phase, revision and progress, and a link to its running rollout.
import { listCanaries, listRuns, queryStatus } from '../canary-lookup.ts';
import type { WorkflowRun } from '../canary-lookup.ts';
import { renderList, temporalUiLink } from '../format.ts';
import type { ListRow } from '../format.ts';
import type { RolloutStatus } from '../../workflows/messages.ts';
import { canaryNamespaceOption } from './arguments.ts';
import { print } from './context.ts';
import type { Command } from './context.ts';

const options = {
  ...canaryNamespaceOption,
} as const;

export const listCommand: Command<typeof options> = {
  name: 'list',
  usage: 'cutover list [-n NAMESPACE]',
  summary: 'every Canary: phase, revision, iteration, failed checks, age, running rollout',
  details: '-n NAMESPACE   only the Canaries of this Kubernetes namespace (default: all namespaces)',
  options,
  async run(ctx, { values }) {
    const namespace = values['canary-namespace'];
    const client = await ctx.temporal();
    const [canaries, running] = await Promise.all([
      listCanaries(ctx.kube(), ctx.options.kubeconfig, namespace),
      listRuns(client, ctx.options.address, { namespace, running: true, rolloutsOnly: true }),
    ]);
    // Newest first: when a newer revision is taking over, its rollout is the current one.
    const current = new Map<string, WorkflowRun>();
    for (const run of running) {
      const key = `${run.namespace}/${run.name}`;
      if (!current.has(key)) current.set(key, run);
    }
    const rows = await Promise.all(
      canaries.map(async (canary): Promise<ListRow> => {
        const run = current.get(`${canary.namespace}/${canary.name}`);
        const status: RolloutStatus | undefined = run
          ? await queryStatus(client, run.workflowId).catch(() => undefined)
          : undefined;
        return {
          namespace: canary.namespace,
          name: canary.name,
          phase: status?.phase ?? canary.status.phase,
          revision: status?.revision ?? canary.status.lastAppliedSpec,
          iteration: status?.iteration ?? canary.status.iterations,
          iterations: status?.iterations ?? canary.iterations,
          failedChecks: status?.failedChecks ?? canary.status.failedChecks,
          threshold: status?.threshold ?? canary.threshold,
          createdAt: canary.createdAt,
          lastTransitionTime: canary.status.lastTransitionTime,
          rollout: run && {
            workflowId: run.workflowId,
            runId: run.runId,
            url: temporalUiLink(ctx.options.uiUrl, ctx.options.namespace, run.workflowId, run.runId),
          },
        };
      }),
    );
    print(ctx, rows, () => renderList(rows, ctx.now()));
    return 0;
  },
};
