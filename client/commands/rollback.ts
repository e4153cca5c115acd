// `cutover rollback NS/NAME --reason TEXT`: switch mode's instant undo. During the keep-warm window
// after a switch, blue is still at full scale: the rollout flips the apex Service back to it in one
// patch and fails with the reason. Who and why go into the history, the status and the Canary's events.
import { CliError, ExitCode } from './context.ts';
import type { Command } from './context.ts';
import { steer, steeringHelp, steeringOptions } from './steering.ts';

export const rollbackCommand: Command<typeof steeringOptions> = {
  name: 'rollback',
  usage: 'cutover rollback NAMESPACE/NAME --reason TEXT [--wait DURATION | --direct [--as NAME]]',
  summary: 'switch mode: send production traffic back to blue now, during the keep-warm window',
  details: [
    steeringHelp('rollback'),
    '',
    'Only a rollout under a RolloutPolicy with strategy: switch has a keep-warm window. Before the',
    'switch, use cutover abort; after the window ended (the rollout is over), use cutover undo.',
  ].join('\n'),
  options: steeringOptions,
  async run(ctx, parsed) {
    const reason = parsed.values.reason?.trim();
    if (!reason) {
      throw new CliError(
        ExitCode.usage,
        'rollback needs --reason TEXT: it is kept in the history and the events',
      );
    }
    try {
      return await steer(ctx, parsed, 'rollback', reason);
    } catch (error) {
      if (error instanceof CliError && error.exitCode === ExitCode.noRunningRollout) {
        throw new CliError(
          ExitCode.noRunningRollout,
          `${error.message}; nothing to flip back. ${afterTheWindow}`,
        );
      }
      throw error;
    }
  },
};

/** What to do when the window is over. */
export const afterTheWindow =
  'After the keep-warm window, cutover undo NAMESPACE/NAME --reason TEXT rolls back to the last promoted revision as a new rollout.';
