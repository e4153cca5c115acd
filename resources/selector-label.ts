// The label that tells the primary's pods from the target's: Flagger takes it from the target's
// selector, the first of `app`, `name`, `app.kubernetes.io/name`, and gives the primary `<value>-primary`.
import type { V1Deployment } from '@kubernetes/client-node';

export const selectorLabelKeys = ['app', 'name', 'app.kubernetes.io/name'] as const;

export interface SelectorLabel {
  key: string;
  /** The target's value; the primary's is `primaryLabelValue(value)`. */
  value: string;
}

/** A target Cutover cannot build a primary from; the message names the field and the fix. */
export class InvalidTargetError extends Error {
  override readonly name = 'InvalidTargetError';
}

/** The target's selector label, or an `InvalidTargetError` saying which labels were looked for. */
export function selectorLabel(target: V1Deployment): SelectorLabel {
  const matchLabels = target.spec?.selector?.matchLabels ?? {};
  for (const key of selectorLabelKeys) {
    const value = matchLabels[key];
    if (value) return { key, value };
  }
  const where = `Deployment ${target.metadata?.namespace ?? ''}/${target.metadata?.name ?? ''}`;
  throw new InvalidTargetError(
    `${where} has none of the labels ${selectorLabelKeys.join(', ')} in spec.selector.matchLabels, so the primary's pods cannot be told from the target's. ` +
      `Add one of them (e.g. app: ${target.metadata?.name ?? '<name>'}) to spec.selector.matchLabels and to spec.template.metadata.labels.`,
  );
}
