// `cutover retry NS/NAME --reason TEXT`: a new rollout of the revision the target has now, when its
// last rollout ended rolled back or failed (before, only a change of the template started one).
import type { Command } from './context.ts';
import { actionHelp, actionOptions, runAction } from './rollout-action.ts';

export const retryCommand: Command<typeof actionOptions> = {
  name: 'retry',
  usage: 'cutover retry NAMESPACE/NAME --reason TEXT [--wait DURATION]',
  summary: 'roll out again the revision whose rollout was rolled back or failed',
  details: [
    actionHelp('retry'),
    '',
    "The worker sets the Canary's cutover.dev/rollout-attempt annotation; the new rollout has a workflow",
    'id of its own, and follows the Canary as any rollout does (cutover watch).',
  ].join('\n'),
  options: actionOptions,
  run: (ctx, parsed) => runAction(ctx, parsed, 'retry'),
};
