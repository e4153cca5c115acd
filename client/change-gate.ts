// What the change-control gate would find now, for `cutover status`: the same evaluation the worker's
// gate runs (activities/change-window.ts), with the caller's credentials. Reading freezes may be
// forbidden to the caller; then the status goes without the line rather than failing.
import type { KubeConfig } from '@kubernetes/client-node';
import { createChangeWindowActivities } from '../activities/change-window.ts';
import type { ChangeWindowVerdict, ChangeWindows } from '../canary/change-control.ts';

export async function changeGateNow(
  kubeconfig: KubeConfig,
  namespace: string,
  windows: ChangeWindows | undefined,
): Promise<ChangeWindowVerdict | undefined> {
  const { checkChangeWindow } = createChangeWindowActivities(kubeconfig, { timeoutMs: 5_000 });
  try {
    return await checkChangeWindow({ namespace, ...(windows ? { windows } : {}) });
  } catch {
    return undefined;
  }
}
