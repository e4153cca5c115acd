// The ids of patched() guards: a change that would make a running rollout take another path is
// guarded by one, and test/replay/ proves the old histories still replay.
export const patches = {
  /** The phase state machine with one local activity per analysis tick (issue 8). */
  engineV2: 'cutover-engine-v2',
  /** Initialization that keeps waiting on a slow cluster instead of failing at the deadline. */
  patientInitialization: 'cutover-patient-initialization',
  /** Deploy windows and freezes checked before scaling and before promotion (issue 10). */
  changeControl: 'cutover-change-control',
} as const;
