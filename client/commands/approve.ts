// `cutover approve NS/NAME --reason TEXT [--override]`: one approval of the running rollout, as the
// user the Kubernetes API server authenticated. A RolloutPolicy's `approvals` counts distinct approvers
// before promotion; `--override` also opens a closed deploy window or a freeze for this rollout.
import type { Command } from './context.ts';
import { actionHelp, actionOptions, runAction } from './rollout-action.ts';

const approveOptions = { ...actionOptions, override: { type: 'boolean' } } as const;

export const approveCommand: Command<typeof approveOptions> = {
  name: 'approve',
  usage: 'cutover approve NAMESPACE/NAME --reason TEXT [--override] [--wait DURATION]',
  summary: 'approve the running rollout (approvals, and with --override a closed window or a freeze)',
  details: actionHelp('approve', [
    '--override        the approval also overrides a closed deploy window or a freeze (recorded as such)',
  ]),
  options: approveOptions,
  run: (ctx, parsed) => runAction(ctx, parsed, 'approve', { override: parsed.values.override === true }),
};
