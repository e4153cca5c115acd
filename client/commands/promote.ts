// `cutover promote NS/NAME`: approve a waiting gate, or end the analysis early and promote.
import { steer, steeringOptions } from './steering.ts';
import type { Command } from './context.ts';

export const promoteCommand: Command<typeof steeringOptions> = {
  name: 'promote',
  usage: 'cutover promote NAMESPACE/NAME [--reason TEXT] [--as NAME]',
  summary: 'promote the running rollout now (or approve the gate it waits at)',
  details: '--as NAME   who is promoting (default $CUTOVER_USER, else $USER@host)',
  options: steeringOptions,
  run: (ctx, parsed) => steer(ctx, parsed, 'promote', parsed.values.reason ?? ''),
};
