// The revisions Cutover keeps of what it promoted, so that `cutover undo` can go back to one after the
// rollout is over: one `ControllerRevision` (apps/v1) per promoted revision, in the Canary's
// namespace, owned by the Canary, named `<canary>-<revision>`, labelled with the Canary's name, its
// `.revision` a counter that grows with each promotion, its `.data` `{ template }`: the target's pod
// template as promoted. Also the Canary annotations with which undo asks for a fresh rollout.
// Pure: the promotion (an activity) writes these objects, the command line reads them.
import { rolloutAttemptAnnotation, skipAnalysisRevisionAnnotation } from './annotations.ts';

/** Label on each kept revision: the Canary's name. */
export const promotedRevisionCanaryLabel = 'cutover.dev/canary';
/** Annotation on each kept revision: the revision hash (as in the Canary's `status.lastPromotedSpec`). */
export const promotedRevisionAnnotation = 'cutover.dev/revision';

/** `<canary>-<revision>`: one kept object per promoted revision, found again by name. */
export function promotedRevisionName(canaryName: string, revision: string): string {
  return `${canaryName}-${revision}`;
}

/**
 * The token of a rollout attempt for `revision` (`cutover.dev/rollout-attempt`): `<revision>.<unique>`,
 * so that whoever reads it can tell which revision it was asked for.
 */
export function rolloutAttemptToken(revision: string, unique: string): string {
  return `${revision}.${unique}`;
}

/** The revision a rollout-attempt token is for, or undefined when it is not of that form. */
export function rolloutAttemptRevision(token: string | undefined): string | undefined {
  const dot = token?.indexOf('.') ?? -1;
  return token !== undefined && dot > 0 ? token.slice(0, dot) : undefined;
}

/** A kept revision, as undo needs it. */
export interface PromotedRevision {
  /** The ControllerRevision's name. */
  name: string;
  /** The revision hash. */
  revision: string;
  /** The promotion counter (`.revision`): higher is more recent. */
  number: number;
  /** The target's pod template as promoted. */
  template: Record<string, unknown>;
  /** When it was first kept (RFC 3339). */
  createdAt?: string;
}

interface StoredControllerRevision {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid?: string; kind?: string }[];
    creationTimestamp?: string | Date;
  };
  revision?: number;
  data?: unknown;
}

/**
 * The kept revisions of the Canary with this uid, most recent first. Objects of another Canary of
 * the same name (deleted and created again), or without a template, are left out and counted.
 */
export function readPromotedRevisions(
  items: readonly unknown[],
  canaryUid: string,
): { revisions: PromotedRevision[]; ignored: string[] } {
  const revisions: PromotedRevision[] = [];
  const ignored: string[] = [];
  for (const item of items as readonly StoredControllerRevision[]) {
    const meta = item.metadata ?? {};
    const name = meta.name ?? '';
    const owned = (meta.ownerReferences ?? []).some((o) => o.uid === canaryUid);
    const revision = meta.annotations?.[promotedRevisionAnnotation];
    const template = (item.data as { template?: unknown } | null | undefined)?.template;
    if (!owned || !revision || typeof item.revision !== 'number' || !isPodTemplate(template)) {
      ignored.push(name);
      continue;
    }
    const created = meta.creationTimestamp;
    revisions.push({
      name,
      revision,
      number: item.revision,
      template,
      ...(created !== undefined
        ? { createdAt: created instanceof Date ? created.toISOString() : created }
        : {}),
    });
  }
  revisions.sort((a, b) => b.number - a.number);
  return { revisions, ignored };
}

function isPodTemplate(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const containers = (value as { spec?: { containers?: unknown } }).spec?.containers;
  return Array.isArray(containers) && containers.length > 0;
}

export type UndoTarget =
  | { ok: true; target: PromotedRevision; current?: string; isCurrent: boolean }
  | { ok: false; message: string };

/**
 * Which kept revision undo goes back to: `to` (a promotion number, a revision hash or the object's
 * name), else the most recent one that is not `current` (the promoted revision, from the Canary's
 * `status.lastPromotedSpec`; the most recent kept one when the status does not say).
 */
export function chooseUndoTarget(
  revisions: readonly PromotedRevision[],
  canary: { namespace: string; name: string },
  current: string | undefined,
  to?: string,
): UndoTarget {
  const ref = `${canary.namespace}/${canary.name}`;
  if (revisions.length === 0) {
    return {
      ok: false,
      message: `Cutover keeps no promoted revision of ${ref} (ControllerRevisions labelled ${promotedRevisionCanaryLabel}=${canary.name}): a revision is kept when a rollout promotes it, so undo has nothing to go back to yet`,
    };
  }
  const promoted = current ?? revisions[0]?.revision;
  if (to !== undefined) {
    const wanted = to.trim();
    const target = /^\d+$/.test(wanted)
      ? revisions.find((r) => r.number === Number(wanted))
      : revisions.find((r) => r.revision === wanted || r.name === wanted);
    if (!target) {
      return {
        ok: false,
        message: `revision ${wanted} of ${ref} is not kept; kept: ${listRevisions(revisions, promoted)} (give the number or the revision hash)`,
      };
    }
    return {
      ok: true,
      target,
      ...(promoted ? { current: promoted } : {}),
      isCurrent: target.revision === promoted,
    };
  }
  const target = revisions.find((r) => r.revision !== promoted);
  if (!target) {
    return {
      ok: false,
      message: `${ref} has only one promoted revision kept (${promoted}), the one it runs: there is no earlier one to go back to`,
    };
  }
  return { ok: true, target, ...(promoted ? { current: promoted } : {}), isCurrent: false };
}

/** `3 (7f3a…, promoted now), 2 (91bc…)`: the kept revisions, for a message. */
export function listRevisions(revisions: readonly PromotedRevision[], current: string | undefined): string {
  return revisions
    .map((r) => `${r.number} (${r.revision}${r.revision === current ? ', promoted now' : ''})`)
    .join(', ');
}

/**
 * The JSON Patch that makes the target's pod template exactly the kept one, as `kubectl rollout
 * undo` does: a whole-template replace, because a server-side apply would keep fields that other
 * managers own and the kept template lacks (an env var added since would survive the undo).
 */
export function templateReplacePatch(
  template: Record<string, unknown>,
): { op: 'replace'; path: string; value: unknown }[] {
  return [{ op: 'replace', path: '/spec/template', value: template }];
}

/**
 * The Canary annotations of an undo to `revision`: a fresh rollout attempt, and whether its analysis
 * is skipped (a stale skip from an earlier undo is removed, so it cannot skip this one by accident).
 */
export function undoAnnotations(
  revision: string,
  unique: string,
  skipAnalysis: boolean,
): Record<string, string | null> {
  return {
    [rolloutAttemptAnnotation]: rolloutAttemptToken(revision, unique),
    [skipAnalysisRevisionAnnotation]: skipAnalysis ? revision : null,
  };
}
