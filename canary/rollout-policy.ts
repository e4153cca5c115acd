// Cutover's own policy object, `RolloutPolicy` (cutover.dev/v1alpha1), which sits beside Flagger's
// Canary and selects Canaries by label: a Canary's YAML stays Flagger's, and Cutover's extensions
// (the switch strategy, and later approvals and deploy windows) live here. Pure: importable from
// workflow code. A Canary that no policy selects behaves exactly as Flagger's `kubernetes` provider.
import type { MetricCheck } from './validate.ts';

export const rolloutPolicyGroup = 'cutover.dev';
export const rolloutPolicyVersion = 'v1alpha1';
export const rolloutPolicyPlural = 'rolloutpolicies';

/**
 * How a promotion reaches production.
 * - `copy`: Flagger's way: the analysed template is copied to `-primary` and rolled out there.
 * - `switch`: the apex Service flips to the green pods that were analysed; blue stays warm for a
 *   window with a post-promotion analysis; then the template is copied and the apex flips back.
 */
export type PromotionStrategy = 'copy' | 'switch';

/** What a rollout needs of the policy that selects its Canary, resolved and validated. */
export interface ResolvedRolloutPolicy {
  /** The RolloutPolicy's name (in the Canary's namespace). */
  name: string;
  strategy: PromotionStrategy;
  /** Set when `strategy` is `switch`. */
  switch?: {
    /** How long blue stays at full scale after the flip (`spec.switch.keepWarm`, default 10m). */
    keepWarmMs: number;
    /** The post-promotion analysis on live traffic during the keep-warm window. */
    analysis: {
      /** Default: the Canary's `analysis.interval`. */
      intervalMs: number;
      /** Failed checks that flip back to blue. Default: the Canary's `analysis.threshold`. */
      threshold: number;
      /** Default: the Canary's own metrics. */
      metrics: MetricCheck[];
    };
  };
}
