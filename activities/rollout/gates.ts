// The hook gates before the analysis: confirm-rollout (wait until every hook says yes) and
// pre-rollout (every hook must pass; a failure counts a failed check). One activity per try.
import type { ResolvedWebhook } from '../../canary/validate.ts';
import type { HookStatus } from '../../workflows/messages.ts';
import type { RolloutContext, RolloutStepDeps } from './context.ts';
import { runHooksInOrder } from './hooks.ts';

export interface RunHooksInput {
  context: RolloutContext;
  key: string;
  hooks: ResolvedWebhook[];
}

export interface RunHooksResult {
  results: HookStatus[];
  /** The first hook that failed; the hooks after it did not run. */
  failed?: HookStatus;
}

export function runHooks(deps: RolloutStepDeps, input: RunHooksInput): Promise<RunHooksResult> {
  return runHooksInOrder(deps, input.context, input.hooks, input.key);
}
