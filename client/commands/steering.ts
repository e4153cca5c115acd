// What `promote`, `abort` and `rollback` share. By default the verified way: a RolloutAction created
// as the caller the Kubernetes API server authenticated (./rollout-action.ts). With --direct (or
// --as), the older way: find the canary's running rollout and signal it in Temporal with who is asking
// and why, as typed; the identity is also the client identity, so the signal event in the history
// names the caller too. Rollouts record that path's identity as unverified.
import { hostname, userInfo } from 'node:os';
import { Client } from '@temporalio/client';
import { abortRollout, promoteRollout, rollbackRollout } from '../rollouts.ts';
import { getCanary, noRunningRollout, runningRollout, temporalFailure } from '../canary-lookup.ts';
import { temporalUiLink } from '../format.ts';
import { callerIdentity, canaryRefOf } from './arguments.ts';
import type { ParsedCommand } from './arguments.ts';
import { CliError, ExitCode, print, unlessKubernetesDown } from './context.ts';
import { actionHelp, parseWait, requestAction } from './rollout-action.ts';
import type { CommandContext } from './context.ts';

export const steeringOptions = {
  as: { type: 'string' },
  reason: { type: 'string' },
  direct: { type: 'boolean' },
  wait: { type: 'string' },
} as const;

/** Help lines of the two paths, for promote, abort and rollback. */
export function steeringHelp(action: SteeringAction): string {
  return [
    actionHelp(action),
    '',
    '--direct          signal the rollout in Temporal instead (needs access to the Temporal namespace;',
    '                  the name is whatever --as says, recorded unverified)',
    '--as NAME         with --direct (implies it): who is asking (default $CUTOVER_USER, else $USER@host)',
  ].join('\n');
}

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
  const ref = canaryRefOf(ctx, positionals);
  // A typed name can only travel the direct path: a RolloutAction carries the authenticated one.
  if (values.direct !== true && values.as === undefined) {
    if (!reason) {
      throw new CliError(
        ExitCode.usage,
        `${action} needs --reason TEXT: it is kept in the history and the events (or --direct to signal Temporal)`,
      );
    }
    return requestAction(ctx, { ref, action, reason, waitMs: parseWait(values.wait) });
  }
  if (values.wait !== undefined)
    throw new CliError(ExitCode.usage, '--wait applies to RolloutActions, not --direct');
  const by = callerIdentity(values.as, process.env, { user: userInfo().username, host: hostname() });
  const base = await ctx.temporal();
  const [, run] = await Promise.all([
    // The signal needs only Temporal: with the API server down, the canary is not checked first.
    unlessKubernetesDown(
      ctx,
      async () => getCanary(ctx.kube(), ctx.options.kubeconfig, ref),
      'not checking that the Canary exists',
    ),
    runningRollout(base, ctx.options.address, ref),
  ]);
  if (!run) throw noRunningRollout(ref);
  // The same data converter as the CLI's client, so a payload key seals the signal's arguments too.
  const client = new Client({
    connection: base.connection,
    namespace: ctx.options.temporalNamespace,
    identity: by,
    dataConverter: base.options.loadedDataConverter,
  });
  const { send, sent: what } = steeringActions[action];
  try {
    await send(client, run.workflowId, { by, reason });
  } catch (error) {
    throw temporalFailure(ctx.options.address, error);
  }
  const url = temporalUiLink(ctx.options.uiUrl, ctx.options.temporalNamespace, run.workflowId, run.runId);
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
