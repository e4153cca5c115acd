// `cutover resume NS/NAME --reason TEXT`: continue a paused analysis (or one held as inconclusive).
import type { Command } from './context.ts';
import { actionHelp, actionOptions, runAction } from './rollout-action.ts';

export const resumeCommand: Command<typeof actionOptions> = {
  name: 'resume',
  usage: 'cutover resume NAMESPACE/NAME --reason TEXT [--wait DURATION]',
  summary: 'continue the analysis of a paused (or inconclusive) rollout',
  details: actionHelp('resume'),
  options: actionOptions,
  run: (ctx, parsed) => runAction(ctx, parsed, 'resume'),
};
