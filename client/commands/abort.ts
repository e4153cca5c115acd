// `cutover abort NS/NAME --reason TEXT`: roll the running rollout back now. A reason is required:
// it goes into the history, the Canary's events and the alerts.
import { CliError, ExitCode } from './context.ts';
import type { Command } from './context.ts';
import { steer, steeringHelp, steeringOptions } from './steering.ts';

export const abortCommand: Command<typeof steeringOptions> = {
  name: 'abort',
  usage: 'cutover abort NAMESPACE/NAME --reason TEXT [--wait DURATION | --direct [--as NAME]]',
  summary: 'roll the running rollout back now',
  details: steeringHelp('abort'),
  options: steeringOptions,
  async run(ctx, parsed) {
    const reason = parsed.values.reason?.trim();
    if (!reason) {
      throw new CliError(
        ExitCode.usage,
        'abort needs --reason TEXT: it is kept in the history and the events',
      );
    }
    return steer(ctx, parsed, 'abort', reason);
  },
};
