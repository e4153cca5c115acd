// `cutover undo NS/NAME [--to-revision R] [--skip-analysis] --reason TEXT`: after a rollout is over,
// go back to a revision Cutover promoted before, as a new rollout. The target Deployment's pod
// template becomes the kept one (canary/promoted-revision.ts), and an annotation on the Canary asks
// the watcher for a fresh rollout of it, even if that revision was rolled out before; with
// --skip-analysis that rollout promotes without analysis. Who and why go into an event on the Canary.
import { hostname, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import {
  chooseUndoTarget,
  promotedRevisionCanaryLabel,
  readPromotedRevisions,
  templateReplacePatch,
  undoAnnotations,
  type PromotedRevision,
} from '../../canary/promoted-revision.ts';
import { hashHex } from '../../canary/revision.ts';
import { apiGroup } from '../../canary/spec.ts';
import { getCanary, runningRollout } from '../canary-lookup.ts';
import { requestDeadline } from '../kubernetes-deadline.ts';
import { callerIdentity, canaryRefOf } from './arguments.ts';
import type { CanaryRef } from './arguments.ts';
import { CliError, ExitCode, kubernetesUnreachable, print } from './context.ts';
import type { Command } from './context.ts';

const options = {
  'to-revision': { type: 'string' },
  'skip-analysis': { type: 'boolean' },
  as: { type: 'string' },
  reason: { type: 'string' },
} as const;

/** Deadline of each Kubernetes call. */
const callTimeoutMs = 10_000;
/** The most kept revisions read: a Canary promoted more often than this keeps only the newest. */
const maxRevisions = 500;

export const undoCommand: Command<typeof options> = {
  name: 'undo',
  usage: 'cutover undo NAMESPACE/NAME --reason TEXT [--to-revision R] [--skip-analysis] [--as NAME]',
  summary: 'roll back to the revision promoted before the current one, as a new rollout',
  details: [
    '--reason TEXT      why (required): kept in an event on the Canary',
    '--to-revision R    go back to this kept revision: its number or its hash (default the one',
    '                   promoted before the current one)',
    '--skip-analysis    promote the undo without analysis (for an emergency)',
    '--as NAME          who is undoing (default $CUTOVER_USER, else $USER@host)',
    '',
    'Cutover keeps each promoted revision as a ControllerRevision <canary>-<revision>. undo sets the',
    "target Deployment's pod template to the kept one and asks for a fresh rollout of it; follow it",
    'with cutover watch. While a rollout runs, use cutover abort (before the switch) or cutover',
    'rollback (during the keep-warm window) instead.',
  ].join('\n'),
  options,
  async run(ctx, { values, positionals }) {
    const ref = canaryRefOf(ctx, positionals);
    const reason = values.reason?.trim();
    if (!reason) {
      throw new CliError(ExitCode.usage, 'undo needs --reason TEXT: it is kept in an event on the Canary');
    }
    const to = values['to-revision'];
    if (to !== undefined && to.trim() === '') {
      throw new CliError(ExitCode.usage, '--to-revision needs a kept revision: its number or its hash');
    }
    const by = callerIdentity(values.as, process.env, { user: userInfo().username, host: hostname() });
    const skipAnalysis = values['skip-analysis'] === true;
    const config = ctx.kube();

    const temporal = await ctx.temporal();
    const [canary, run] = await Promise.all([
      getCanary(config, ctx.options.kubeconfig, ref),
      runningRollout(temporal, ctx.options.address, ref),
    ]);
    if (run) {
      throw new CliError(
        ExitCode.usage,
        `a rollout of ${ref.namespace}/${ref.name} is running (${run.workflowId}): cutover abort rolls it back before the switch, cutover rollback flips back during the keep-warm window; undo is for after it ended`,
      );
    }
    if (!canary.uid || !canary.target) {
      throw new CliError(
        ExitCode.canaryNotFound,
        `canary ${ref.namespace}/${ref.name} has no uid or no spec.targetRef.name`,
      );
    }

    const apps = config.makeApiClient(k8s.AppsV1Api);
    const custom = config.makeApiClient(k8s.CustomObjectsApi);
    const call = <T>(what: string, request: () => Promise<T>): Promise<T> =>
      kubeCall(config, ctx.options.kubeconfig, what, request);
    const items = await call(`list the kept revisions of ${ref.namespace}/${ref.name}`, () =>
      apps.listNamespacedControllerRevision(
        {
          namespace: ref.namespace,
          labelSelector: `${promotedRevisionCanaryLabel}=${ref.name}`,
          limit: maxRevisions,
        },
        requestDeadline(callTimeoutMs),
      ),
    );
    const { revisions } = readPromotedRevisions(
      items.items.map((item) => JSON.parse(JSON.stringify(item)) as unknown),
      canary.uid,
    );
    const choice = chooseUndoTarget(revisions, ref, canary.status.lastPromotedSpec, to);
    if (!choice.ok) throw new CliError(ExitCode.rolloutNotFound, choice.message);
    const { target, isCurrent } = choice;

    // The annotations first, then the template: when the watcher sees the new revision, it also
    // sees that a fresh rollout of it is asked for and whether its analysis is skipped.
    const annotations = isCurrent ? {} : undoAnnotations(target.revision, uniqueSuffix(), skipAnalysis);
    if (!isCurrent) {
      await call(`annotate canary ${ref.namespace}/${ref.name}`, () =>
        custom.patchNamespacedCustomObject(
          {
            group: apiGroup,
            version: 'v1beta1',
            namespace: ref.namespace,
            plural: 'canaries',
            name: ref.name,
            body: { metadata: { annotations } },
            fieldManager: 'cutover',
          },
          requestDeadline(callTimeoutMs, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
        ),
      );
    }
    await call(`set the pod template of Deployment ${ref.namespace}/${canary.target}`, () =>
      apps.patchNamespacedDeployment(
        {
          namespace: ref.namespace,
          name: canary.target ?? '',
          body: templateReplacePatch(target.template),
          fieldManager: 'cutover',
        },
        requestDeadline(callTimeoutMs, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch)),
      ),
    );
    const message = undoMessage(target, by, reason, skipAnalysis, isCurrent);
    const recorded = await recordUndoEvent(config, ref, canary.uid, message, annotations).then(
      () => true,
      (error: unknown) => {
        ctx.stderr.write(
          `cutover: the undo is done, but its event could not be recorded: ${errorText(error)}\n`,
        );
        return false;
      },
    );

    const result = {
      canary: ref,
      target: canary.target,
      to: { name: target.name, revision: target.revision, number: target.number },
      from: choice.current,
      skipAnalysis,
      rolloutRequested: !isCurrent,
      annotations,
      by,
      reason,
      eventRecorded: recorded,
    };
    print(ctx, result, () =>
      renderUndo(ref, canary.target ?? '', target, choice.current, { by, reason, skipAnalysis, isCurrent }),
    );
    return 0;
  },
};

/** What the text output says: what changed, what happens next, how to follow it. */
export function renderUndo(
  ref: CanaryRef,
  deployment: string,
  target: PromotedRevision,
  current: string | undefined,
  how: { by: string; reason: string; skipAnalysis: boolean; isCurrent: boolean },
): string {
  const canary = `${ref.namespace}/${ref.name}`;
  const lines = [
    `Undo of ${canary}: Deployment ${deployment}'s pod template set to revision ${target.number} (${target.revision}) from ${target.name}`,
    `  by ${how.by}: ${how.reason}`,
  ];
  if (how.isCurrent) {
    lines.push(
      `  ${target.revision} is the revision promoted now: the target matches the primary again, no rollout is needed`,
    );
  } else {
    lines.push(
      `  a new rollout of ${target.revision}${current ? ` (replacing ${current})` : ''} starts ${how.skipAnalysis ? 'and promotes without analysis' : 'with the Canary\u2019s analysis'}`,
      `  follow it: cutover watch ${canary}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function undoMessage(
  target: PromotedRevision,
  by: string,
  reason: string,
  skipAnalysis: boolean,
  isCurrent: boolean,
): string {
  const what = isCurrent
    ? 'the target set back to the promoted revision'
    : `a new rollout asked for${skipAnalysis ? ', analysis skipped' : ''}`;
  return `Undo to revision ${target.number} (${target.revision}) by ${by}: ${reason} (${what}).`;
}

function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

async function recordUndoEvent(
  config: k8s.KubeConfig,
  ref: CanaryRef,
  uid: string,
  message: string,
  annotations: Record<string, string | null>,
): Promise<void> {
  const at = new Date();
  const key = `undo/${Object.values(annotations).join('/')}/${at.toISOString()}`;
  await config.makeApiClient(k8s.CoreV1Api).createNamespacedEvent(
    {
      namespace: ref.namespace,
      body: {
        metadata: {
          name: `${ref.name.slice(0, 253 - 17)}.${hashHex(`${uid}\n${key}`)}`,
          namespace: ref.namespace,
        },
        involvedObject: {
          apiVersion: `${apiGroup}/v1beta1`,
          kind: 'Canary',
          name: ref.name,
          namespace: ref.namespace,
          uid,
        },
        reason: 'Undo',
        message,
        type: 'Normal',
        source: { component: 'cutover' },
        reportingComponent: 'cutover',
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      },
    },
    requestDeadline(callTimeoutMs),
  );
}

/** One Kubernetes call of the undo, its failure turned into a sentence naming what was tried. */
async function kubeCall<T>(
  config: k8s.KubeConfig,
  kubeconfig: string,
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof k8s.ApiException) {
      throw new CliError(
        error.code === 404 ? ExitCode.canaryNotFound : ExitCode.kubernetesUnreachable,
        `Kubernetes refused to ${what} (HTTP ${error.code}): ${errorText(error)}`,
      );
    }
    const server = config.getCurrentCluster()?.server ?? '(no current cluster)';
    throw kubernetesUnreachable(server, kubeconfig, `${what}: ${errorText(error)}`);
  }
}

function errorText(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    let body: unknown = error.body;
    if (typeof error.body === 'string') {
      const text = error.body;
      try {
        body = JSON.parse(text);
      } catch {
        return text.slice(0, 300);
      }
    }
    if (body !== null && typeof body === 'object' && 'message' in body && typeof body.message === 'string') {
      return body.message;
    }
    return `HTTP ${error.code}`;
  }
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
}
