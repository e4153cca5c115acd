// `cutover pause NS/NAME --reason TEXT`: hold the running rollout's analysis (no ticks are spent while
// it is paused) until `cutover resume`, promote or abort.
import type { Command } from './context.ts';
import { actionHelp, actionOptions, runAction } from './rollout-action.ts';

export const pauseCommand: Command<typeof actionOptions> = {
  name: 'pause',
  usage: 'cutover pause NAMESPACE/NAME --reason TEXT [--wait DURATION]',
  summary: "hold the running rollout's analysis until resume, promote or abort",
  details: actionHelp('pause'),
  options: actionOptions,
  run: (ctx, parsed) => runAction(ctx, parsed, 'pause'),
};
