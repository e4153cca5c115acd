// `cutover promote NS/NAME`: approve a waiting gate, or end the analysis early and promote.
import { steer, steeringHelp, steeringOptions } from './steering.ts';
import type { Command } from './context.ts';

export const promoteCommand: Command<typeof steeringOptions> = {
  name: 'promote',
  usage:
    'cutover promote NAMESPACE/NAME --reason TEXT [--wait DURATION] | --direct [--as NAME] [--reason TEXT]',
  summary: 'promote the running rollout now (or approve the gate it waits at)',
  details: steeringHelp('promote'),
  options: steeringOptions,
  run: (ctx, parsed) => steer(ctx, parsed, 'promote', parsed.values.reason ?? ''),
};
