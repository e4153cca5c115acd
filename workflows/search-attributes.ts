// The custom search attributes every rollout keeps current, so Temporal UI lists rollouts by canary
// and phase. Registered by the dev server's start flags (stack/) and by the worker on a user's Temporal.
import { defineSearchAttributeKey } from '@temporalio/common';
import type { SearchAttributePair } from '@temporalio/common';

export const canarySearchAttribute = defineSearchAttributeKey('CutoverCanary', 'KEYWORD');
export const namespaceSearchAttribute = defineSearchAttributeKey('CutoverNamespace', 'KEYWORD');
export const revisionSearchAttribute = defineSearchAttributeKey('CutoverRevision', 'KEYWORD');
export const phaseSearchAttribute = defineSearchAttributeKey('CutoverPhase', 'KEYWORD');

export const cutoverSearchAttributes = {
  CutoverCanary: 'Keyword',
  CutoverNamespace: 'Keyword',
  CutoverRevision: 'Keyword',
  CutoverPhase: 'Keyword',
} as const;

/** The four attributes of one rollout, as the workflow upserts them and the client starts it with. */
export function rolloutSearchAttributes(
  canary: { name: string; namespace: string },
  revision: string,
  phase: string,
): SearchAttributePair[] {
  return [
    { key: canarySearchAttribute, value: canary.name },
    { key: namespaceSearchAttribute, value: canary.namespace },
    { key: revisionSearchAttribute, value: revision },
    { key: phaseSearchAttribute, value: phase },
  ];
}
