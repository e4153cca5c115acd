// The verified way to steer (every steering command's default): the CLI asks the API server who the
// caller is, creates a RolloutAction carrying that identity (the admission policy admits it only when
// it matches and RBAC grants the action's verb), waits a bounded time for the worker's outcome, and
// prints it. A refusal is one line naming the rule and who may act.
import * as k8s from '@kubernetes/client-node';
import { parseDuration } from '../../canary/duration.ts';
import { roleForAction, type RolloutActionStatus } from '../../canary/rollout-action.ts';
import type { SteeringActionName } from '../../workflows/steering-messages.ts';
import { createRolloutAction, selfIdentity, waitForOutcome } from '../rollout-actions.ts';
import { canaryRefOf } from './arguments.ts';
import type { CanaryRef, ParsedCommand } from './arguments.ts';
import { CliError, ExitCode, kubernetesUnreachable, print } from './context.ts';
import type { CommandContext } from './context.ts';

export const defaultWaitMs = 30_000;

/** The flags of a command that only creates RolloutActions (approve, pause, resume, retry). */
export const actionOptions = {
  reason: { type: 'string' },
  wait: { type: 'string' },
} as const;

/** `--wait DURATION`: how long to wait for the worker's outcome (0: do not wait). */
export function parseWait(flag: string | undefined): number {
  if (flag === undefined) return defaultWaitMs;
  const parsed = parseDuration(flag);
  if (!parsed.ok || parsed.ms < 0) {
    throw new CliError(
      ExitCode.usage,
      `--wait ${flag}: ${parsed.ok ? 'must not be negative' : parsed.reason}`,
    );
  }
  return parsed.ms;
}

/** The exit code of a refusal the worker wrote, by its reason. */
function refusalExitCode(status: RolloutActionStatus): ExitCode {
  if (status.reason === 'NoRunningRollout') return ExitCode.noRunningRollout;
  if (status.reason === 'CanaryNotFound') return ExitCode.canaryNotFound;
  return ExitCode.refused;
}

export interface ActionRequestInput {
  ref: CanaryRef;
  action: SteeringActionName;
  reason: string;
  override?: boolean;
  waitMs: number;
}

function unreachable(ctx: CommandContext, error: unknown): CliError {
  if (error instanceof CliError) return error;
  const config = ctx.kube();
  const server = config.getCurrentCluster()?.server ?? '(no current cluster)';
  const cause = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  if (error instanceof k8s.ApiException) {
    return new CliError(ExitCode.kubernetesUnreachable, `Kubernetes answered HTTP ${error.code}: ${cause}`);
  }
  const down = kubernetesUnreachable(server, ctx.options.kubeconfig, cause);
  // promote, abort and rollback can also go straight to the rollout, which needs only Temporal.
  return new CliError(down.exitCode, `${down.message} (promote, abort and rollback also work with --direct)`);
}

/** Creates the RolloutAction, waits for its outcome and prints it; returns the exit code. */
export async function requestAction(ctx: CommandContext, input: ActionRequestInput): Promise<number> {
  const { ref, action } = input;
  const config = ctx.kube();
  let created;
  let identity;
  try {
    identity = await selfIdentity(config);
    created = await createRolloutAction(config, {
      namespace: ref.namespace,
      canary: ref.name,
      action,
      reason: input.reason,
      ...(input.override ? { override: true } : {}),
      user: identity.username,
      groups: identity.groups,
    });
  } catch (error) {
    throw unreachable(ctx, error);
  }
  if (!created.ok) {
    const { kind, message } = created.refusal;
    if (kind === 'no-namespace') throw new CliError(ExitCode.canaryNotFound, message);
    throw new CliError(
      kind === 'not-served' ? ExitCode.kubernetesUnreachable : ExitCode.refused,
      `${action} of ${ref.namespace}/${ref.name} ${message}`,
    );
  }
  const object = `${ref.namespace}/${created.name}`;
  let outcome: { settled: boolean; status: RolloutActionStatus } = { settled: false, status: {} };
  if (input.waitMs > 0) {
    try {
      outcome = await waitForOutcome(config, ref.namespace, created.name, { timeoutMs: input.waitMs });
    } catch (error) {
      throw unreachable(ctx, error);
    }
  }
  const { status } = outcome;
  const data = {
    rolloutAction: object,
    canary: `${ref.namespace}/${ref.name}`,
    action,
    user: identity.username,
    groups: identity.groups,
    reason: input.reason,
    status,
  };
  if (status.phase === 'Refused') {
    if (ctx.options.output === 'json') print(ctx, data, () => '');
    throw new CliError(
      refusalExitCode(status),
      `${action} of ${ref.namespace}/${ref.name} refused (RolloutAction ${object}): ${status.message ?? status.reason ?? ''}`,
    );
  }
  if (!outcome.settled) {
    print(ctx, data, () =>
      input.waitMs > 0
        ? ''
        : [
            `RolloutAction ${object} created: ${action} of ${ref.namespace}/${ref.name} as ${identity.username}`,
            `  its outcome: kubectl get rolloutaction -n ${ref.namespace} ${created.name}`,
            '',
          ].join('\n'),
    );
    if (input.waitMs === 0) return 0;
    const seconds = Math.round(input.waitMs / 1000);
    throw new CliError(
      ExitCode.noAnswer,
      status.phase === 'Pending'
        ? `RolloutAction ${object} (${action} as ${identity.username}) is still pending after ${seconds} s: ${status.message ?? ''}; kubectl get rolloutaction -n ${ref.namespace} ${created.name} shows its outcome`
        : `RolloutAction ${object} was admitted (${action} as ${identity.username}), but no worker acted on it within ${seconds} s: is cutover worker running (without --no-rollout-actions)? kubectl get rolloutaction -n ${ref.namespace} ${created.name} shows when it does`,
    );
  }
  print(ctx, data, () =>
    [
      `${action} of ${ref.namespace}/${ref.name} applied, as ${identity.username} (RolloutAction ${object}):`,
      `  ${status.message ?? ''}`,
      ...(status.workflowId ? [`  rollout: ${status.workflowId}`] : []),
      `  follow it: cutover watch ${ref.namespace}/${ref.name}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** Help lines every RolloutAction command shares. */
export function actionHelp(action: SteeringActionName, extraFlags: string[] = []): string {
  return [
    "--reason TEXT     why (required): kept in the history, the Canary's events and the alerts",
    `--wait DURATION   how long to wait for the worker's outcome (default 30s; 0: do not wait)`,
    ...extraFlags,
    '',
    `Creates a RolloutAction as you (the identity the Kubernetes API server authenticated, from a`,
    `SelfSubjectReview). The admission policy cutover-rollout-actions admits it when RBAC grants you the`,
    `verb ${action} on canaries.cutover.dev in the namespace (ClusterRole ${roleForAction(action)}).`,
  ].join('\n');
}

/** A command that only creates RolloutActions: the canary, a required reason, the wait. */
export async function runAction(
  ctx: CommandContext,
  { values, positionals }: ParsedCommand<typeof actionOptions>,
  action: SteeringActionName,
  extra: { override?: boolean } = {},
): Promise<number> {
  const ref = canaryRefOf(ctx, positionals);
  const reason = values.reason?.trim();
  if (!reason) {
    throw new CliError(
      ExitCode.usage,
      `${action} needs --reason TEXT: it is kept in the history and the events`,
    );
  }
  return requestAction(ctx, { ref, action, reason, waitMs: parseWait(values.wait), ...extra });
}
