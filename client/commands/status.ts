// `cutover status NS/NAME`: the running rollout's own account of itself (the `status` query), or,
// with none running, the Canary's status and how the last rollout ended.
import { getCanary, listRuns, queryStatus, runEnding, runningRollout } from '../canary-lookup.ts';
import { renderIdle, renderRunning, temporalUiLink } from '../format.ts';
import type { IdleView, RunningView } from '../format.ts';
import { canaryNamespaceOption, parseCanaryRef } from './arguments.ts';
import { changeGateNow } from '../change-gate.ts';
import { print } from './context.ts';
import type { Command } from './context.ts';

const options = {
  ...canaryNamespaceOption,
} as const;

export const statusCommand: Command<typeof options> = {
  name: 'status',
  usage: 'cutover status NAMESPACE/NAME',
  summary: "the running rollout's phase, iteration, checks, hooks, wait and manual actions",
  options,
  async run(ctx, { values, positionals }) {
    const ref = parseCanaryRef(positionals, values['canary-namespace']);
    const client = await ctx.temporal();
    const { address, uiUrl, namespace } = ctx.options;
    const [canary, run] = await Promise.all([
      getCanary(ctx.kube(), ctx.options.kubeconfig, ref),
      runningRollout(client, address, ref),
    ]);
    if (run) {
      const status = await queryStatus(client, run.workflowId).catch(() => undefined);
      if (status) {
        const gate = await changeGateNow(ctx.kube(), ref.namespace, status.windows);
        const view: RunningView = {
          workflowId: run.workflowId,
          runId: run.runId,
          url: temporalUiLink(uiUrl, namespace, run.workflowId, run.runId),
          status,
          ...(gate ? { gate } : {}),
        };
        print(ctx, { running: true, ...view }, () => renderRunning(view, ctx.now()));
        return 0;
      }
      ctx.stderr.write(`the status query of ${run.workflowId} did not answer (is a worker running?)\n`);
    }
    const last = (await listRuns(client, address, { canary: ref })).find((r) => r.status !== 'RUNNING');
    const ending = last && (await runEnding(client, last));
    const view: IdleView = {
      canary,
      last: last &&
        ending && {
          workflowId: last.workflowId,
          runId: last.runId,
          url: temporalUiLink(uiUrl, namespace, last.workflowId, last.runId),
          kind: last.kind,
          startTime: last.startTime.toISOString(),
          closeTime: last.closeTime?.toISOString(),
          outcome: ending.outcome,
          reason: ending.reason,
          manualActions: ending.manualActions,
        },
    };
    print(ctx, { running: false, ...view }, () => renderIdle(view, ctx.now()));
    return 0;
  },
};
