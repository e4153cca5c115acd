// Bad input that Cutover does not answer on the object yet, found by the fault suite: each is a bug
// for the owner of the code named, kept as the reason of a `todo` test until it is fixed (a todo test
// still runs and reports, so the day it passes shows in the output).
const alertFailuresDropped =
  'a broken AlertProvider is silent: activities/rollout/report.ts (reportRollout) collects the failed alerts in ' +
  '`alertFailures` and returns them, but no caller reads them, so the rollout succeeds with no Warning event; ' +
  'fix: write one Warning event per failing provider (stable key per rollout) naming the provider, the error and the fix';

export const knownGaps: Record<string, string> = {
  'conflict-second':
    'two Canaries on one target both initialize and promote the same primary, neither gets a word: ' +
    'worker/reconcile.ts (reconcileCanary) never checks that the target is already managed by another Canary; ' +
    'fix: before startInitialization, refuse (reportInvalidCanary) when `<target>-primary` exists with an owner ' +
    'reference to another Canary uid (resources/owner.ts isOwnedBy), naming that Canary',
  'alert-type-unknown': alertFailuresDropped,
  'alert-secret-missing': alertFailuresDropped,
  'alert-address-bad': alertFailuresDropped,
};
