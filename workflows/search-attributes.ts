// The custom search attributes every rollout keeps current, so Temporal UI lists rollouts by canary
// and phase. Registered by the dev server's start flags (stack/) and by the worker on a user's Temporal.
import { defineSearchAttributeKey } from '@temporalio/common';
import type { SearchAttributePair } from '@temporalio/common';

export const canarySearchAttribute = defineSearchAttributeKey('CutoverCanary', 'KEYWORD');
export const namespaceSearchAttribute = defineSearchAttributeKey('CutoverNamespace', 'KEYWORD');
export const revisionSearchAttribute = defineSearchAttributeKey('CutoverRevision', 'KEYWORD');
export const phaseSearchAttribute = defineSearchAttributeKey('CutoverPhase', 'KEYWORD');
/** The image the rollout brings (the target's first container). */
export const imageSearchAttribute = defineSearchAttributeKey('CutoverImage', 'KEYWORD');
/** How the rollout ended: promoted, rolled-back, superseded or failed (unset while it runs). */
export const outcomeSearchAttribute = defineSearchAttributeKey('CutoverOutcome', 'KEYWORD');

export const cutoverSearchAttributes = {
  CutoverCanary: 'Keyword',
  CutoverNamespace: 'Keyword',
  CutoverRevision: 'Keyword',
  CutoverPhase: 'Keyword',
  CutoverImage: 'Keyword',
  CutoverOutcome: 'Keyword',
} as const;

/** The attributes of one rollout, as the workflow upserts them and the client starts it with. */
export function rolloutSearchAttributes(
  canary: { name: string; namespace: string },
  revision: string,
  phase: string,
  images?: { to?: string },
): SearchAttributePair[] {
  return [
    { key: canarySearchAttribute, value: canary.name },
    { key: namespaceSearchAttribute, value: canary.namespace },
    { key: revisionSearchAttribute, value: revision },
    { key: phaseSearchAttribute, value: phase },
    ...(images?.to ? [{ key: imageSearchAttribute, value: images.to }] : []),
  ];
}

/** What the workflow list shows once a rollout ended: its last phase and how it ended. */
export function outcomeSearchAttributes(phase: string, outcome: string): SearchAttributePair[] {
  return [
    { key: phaseSearchAttribute, value: phase },
    { key: outcomeSearchAttribute, value: outcome },
  ];
}
