// What `promote`, `abort` and `rollback` share: find the canary's running rollout and signal it with who is
// asking and why. The identity is also the client identity, so the signal event in the history
// names the caller too.
import { hostname, userInfo } from 'node:os';
import { Client } from '@temporalio/client';
import { abortRollout, promoteRollout, rollbackRollout } from '../rollouts.ts';
import { getCanary, noRunningRollout, runningRollout, temporalFailure } from '../canary-lookup.ts';
import { temporalUiLink } from '../format.ts';
import { canaryNamespaceOption, callerIdentity, parseCanaryRef } from './arguments.ts';
import type { ParsedCommand } from './arguments.ts';
import { print } from './context.ts';
import type { CommandContext } from './context.ts';

export const steeringOptions = {
  ...canaryNamespaceOption,
  as: { type: 'string' },
  reason: { type: 'string' },
} as const;

/** Each steering action: the signal that carries it, and how the confirmation names it. */
const steeringActions = {
  promote: { send: promoteRollout, sent: 'Promotion' },
  abort: { send: abortRollout, sent: 'Abort' },
  rollback: { send: rollbackRollout, sent: 'Rollback to blue' },
} as const;
export type SteeringAction = keyof typeof steeringActions;

export async function steer(
  ctx: CommandContext,
  { values, positionals }: ParsedCommand<typeof steeringOptions>,
  action: SteeringAction,
  reason: string,
): Promise<number> {
  const ref = parseCanaryRef(positionals, values['canary-namespace']);
  const by = callerIdentity(values.as, process.env, { user: userInfo().username, host: hostname() });
  const base = await ctx.temporal();
  const [, run] = await Promise.all([
    getCanary(ctx.kube(), ctx.options.kubeconfig, ref),
    runningRollout(base, ctx.options.address, ref),
  ]);
  if (!run) throw noRunningRollout(ref);
  const client = new Client({ connection: base.connection, namespace: ctx.options.namespace, identity: by });
  const { send, sent: what } = steeringActions[action];
  try {
    await send(client, run.workflowId, { by, reason });
  } catch (error) {
    throw temporalFailure(ctx.options.address, error);
  }
  const url = temporalUiLink(ctx.options.uiUrl, ctx.options.namespace, run.workflowId, run.runId);
  const sent = { signal: action, workflowId: run.workflowId, runId: run.runId, by, reason, url };
  print(ctx, sent, () =>
    [
      `${what} of ${ref.namespace}/${ref.name} sent to ${run.workflowId}`,
      `  by ${by}: ${reason || '(no reason)'}`,
      `  follow it: cutover watch ${ref.namespace}/${ref.name}`,
      `  Temporal UI: ${url}`,
      '',
    ].join('\n'),
  );
  return 0;
}
