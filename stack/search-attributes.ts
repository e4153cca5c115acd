// The custom search attributes Cutover keeps current on every rollout, so Temporal UI can list
// rollouts by canary and phase. Shared by the dev server's start flags and the worker's registration
// against a user's own Temporal.
export const cutoverSearchAttributes = {
  CutoverCanary: 'Keyword',
  CutoverNamespace: 'Keyword',
  CutoverRevision: 'Keyword',
  CutoverPhase: 'Keyword',
} as const;
