// `cutover status NS/NAME`: the running rollout's own account of itself (the `status` query), or,
// with none running, the Canary's status and how the last rollout ended.
import { getCanary, listRuns, queryStatus, runEnding, runningRollout } from '../canary-lookup.ts';
import { renderIdle, renderRunning, temporalUiLink } from '../format.ts';
import type { IdleView, RunningView } from '../format.ts';
import { canaryRefOf } from './arguments.ts';
import { changeGateNow } from '../change-gate.ts';
import { CliError, ExitCode, print } from './context.ts';
import type { Command } from './context.ts';

const options = {} as const;

export const statusCommand: Command<typeof options> = {
  name: 'status',
  usage: 'cutover status NAME|NAMESPACE/NAME [-n NAMESPACE]',
  summary: "the running rollout's phase, iteration, checks, hooks, wait and manual actions",
  options,
  async run(ctx, { positionals }) {
    const ref = canaryRefOf(ctx, positionals);
    const { address, uiUrl, temporalNamespace: namespace } = ctx.options;
    // Each backend may be down alone: the Canary's status, or the rollout's, is still worth showing.
    const [fromKube, fromTemporal] = await Promise.allSettled([
      (async () => getCanary(ctx.kube(), ctx.options.kubeconfig, ref))(),
      (async () => {
        const client = await ctx.temporal();
        return { client, run: await runningRollout(client, address, ref) };
      })(),
    ]);
    if (fromKube.status === 'rejected' && !isDown(fromKube.reason, ExitCode.kubernetesUnreachable)) {
      throw fromKube.reason;
    }
    if (fromTemporal.status === 'rejected') {
      if (fromKube.status === 'rejected' || !isDown(fromTemporal.reason, ExitCode.temporalUnreachable)) {
        throw fromTemporal.reason;
      }
      ctx.warn(`${(fromTemporal.reason as Error).message}; showing the Canary's own status`);
      const view: IdleView = { canary: fromKube.value };
      print(ctx, { running: false, ...view }, () => renderIdle(view, ctx.now()));
      return 0;
    }
    const { client, run } = fromTemporal.value;
    if (fromKube.status === 'rejected') {
      if (!run) throw fromKube.reason;
      ctx.warn(`${(fromKube.reason as Error).message}; showing the rollout from Temporal alone`);
    }
    const canary = fromKube.status === 'fulfilled' ? fromKube.value : undefined;
    if (run) {
      const status = await queryStatus(client, run.workflowId).catch(() => undefined);
      if (status) {
        const gate = canary && (await changeGateNow(ctx.kube(), ref.namespace, status.windows));
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
    // No rollout to show, and no Canary: the API server's failure is the answer.
    if (fromKube.status === 'rejected') throw fromKube.reason;
    const view: IdleView = {
      canary: fromKube.value,
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

function isDown(reason: unknown, code: ExitCode): boolean {
  return reason instanceof CliError && reason.exitCode === code;
}
