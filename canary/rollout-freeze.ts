// Cutover's `RolloutFreeze` (cutover.dev/v1alpha1, cluster-scoped): no change in the namespaces it
// selects, from `start` (or at once) until `end` (or until it is deleted). The CRD's schema refuses
// most mistakes when the freeze is applied; this validation catches the rest (and any freeze stored
// before the schema did), every problem at once, naming the field and the fix, for the freeze's
// `Ready` condition and a Warning event. Pure: no I/O, no clock.
import { z } from 'zod';
import { describeIssue, type Problem } from './problems.ts';
import {
  labelSelectorSchema,
  selectorMatches,
  selectorProblems,
  type LabelSelector,
} from './rollout-policy.ts';
import { conditionSchema, objectMetaSchema } from './spec.ts';

export const rolloutFreezeGroup = 'cutover.dev';
export const rolloutFreezeVersion = 'v1alpha1';
export const rolloutFreezePlural = 'rolloutfreezes';
export const rolloutFreezeKind = 'RolloutFreeze';
export const rolloutFreezeApiVersion = `${rolloutFreezeGroup}/${rolloutFreezeVersion}`;

/** A freeze as a gate reads it: which namespaces, when, and why. Times as written (RFC 3339). */
export interface ResolvedRolloutFreeze {
  name: string;
  namespaceSelector: LabelSelector;
  /** Unset: since it was created. */
  start?: string;
  /** Unset: until it is deleted. */
  end?: string;
  reason: string;
}

export const rolloutFreezeSpecSchema = z.looseObject({
  // Optional here so that its absence is reported in words, with the way to freeze everything.
  namespaceSelector: labelSelectorSchema.optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  reason: z.string().optional(),
});

export const rolloutFreezeStatusSchema = z.looseObject({
  observedGeneration: z.number().optional(),
  conditions: z.array(conditionSchema).optional(),
});

export const rolloutFreezeSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema.default({}),
  spec: rolloutFreezeSpecSchema,
  status: rolloutFreezeStatusSchema.optional(),
});
export type RolloutFreeze = z.infer<typeof rolloutFreezeSchema>;

export type RolloutFreezeValidation =
  { ok: true; freeze: ResolvedRolloutFreeze } | { ok: false; name: string; problems: Problem[] };

// RFC 3339 as Kubernetes' `format: date-time` takes it: a date, a time, and a zone (Z or an offset).
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function validateRolloutFreeze(raw: unknown): RolloutFreezeValidation {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    const problem = {
      path: '',
      message: `The RolloutFreeze is ${raw === null ? 'null' : Array.isArray(raw) ? 'a list' : typeof raw}, not an object.`,
      fix: 'Pass a whole RolloutFreeze object (apiVersion, kind, metadata, spec).',
    };
    return { ok: false, name: '', problems: [problem] };
  }
  const name = (raw as { metadata?: { name?: unknown } }).metadata?.name;
  const parsed = rolloutFreezeSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      name: typeof name === 'string' ? name : '',
      problems: parsed.error.issues.map((issue) => freezeIssue(issue, raw)),
    };
  }
  const freeze = parsed.data;
  const problems: Problem[] = [];
  if (freeze.kind !== undefined && freeze.kind !== rolloutFreezeKind) {
    problems.push({
      path: 'kind',
      message: `kind is "${freeze.kind}", not ${rolloutFreezeKind}.`,
      fix: `Set kind: ${rolloutFreezeKind}.`,
    });
  }
  if (freeze.apiVersion !== undefined && freeze.apiVersion !== rolloutFreezeApiVersion) {
    problems.push({
      path: 'apiVersion',
      message: `apiVersion is "${freeze.apiVersion}", which Cutover does not serve for RolloutFreeze.`,
      fix: `Set apiVersion: ${rolloutFreezeApiVersion}.`,
    });
  }
  const freezeName = freeze.metadata.name ?? '';
  if (freezeName === '') {
    problems.push({
      path: 'metadata.name',
      message: 'metadata.name is missing.',
      fix: 'Give the RolloutFreeze a name.',
    });
  }
  const { namespaceSelector, start, end, reason } = freeze.spec;
  if (namespaceSelector === undefined) {
    problems.push({
      path: 'spec.namespaceSelector',
      message: 'spec.namespaceSelector is missing, so the freeze does not say which namespaces it stops.',
      fix: 'Add namespaceSelector: {matchLabels: {<label>: <value>}} to freeze namespaces by label (kubernetes.io/metadata.name: <name> for one namespace), or namespaceSelector: {} to freeze every namespace.',
    });
  } else {
    problems.push(...selectorProblems(namespaceSelector, 'spec.namespaceSelector'));
  }
  const startMs = instant(start, 'spec.start', 'when the freeze begins', problems);
  const endMs = instant(end, 'spec.end', 'when the freeze ends', problems);
  if (startMs !== undefined && endMs !== undefined && endMs <= startMs) {
    problems.push({
      path: 'spec.end',
      message: `spec.end (${end}) is not after spec.start (${start}), so the freeze would never be in force.`,
      fix: 'Set end after start, or remove end to freeze until the RolloutFreeze is deleted.',
    });
  }
  if (reason === undefined || reason.trim() === '') {
    problems.push({
      path: 'spec.reason',
      message: `spec.reason is ${reason === undefined ? 'missing' : 'empty'}, and every event and refusal the freeze causes shows it.`,
      fix: 'Say why and whom to ask, e.g. reason: "Year-end freeze, ask #release".',
    });
  }
  if (problems.length > 0 || namespaceSelector === undefined || reason === undefined) {
    return { ok: false, name: freezeName, problems };
  }
  return {
    ok: true,
    freeze: {
      name: freezeName,
      namespaceSelector,
      ...(start !== undefined ? { start } : {}),
      ...(end !== undefined ? { end } : {}),
      reason: reason.trim(),
    },
  };
}

/** Whether a valid freeze covers a namespace with these labels (its selector; the times are the gate's). */
export function freezeCovers(
  freeze: ResolvedRolloutFreeze,
  namespaceLabels: Readonly<Record<string, string>>,
): boolean {
  return selectorMatches(freeze.namespaceSelector, namespaceLabels);
}

/** The freeze in one sentence, for its Ready condition. */
export function describeFreeze(freeze: ResolvedRolloutFreeze): string {
  const selector = freeze.namespaceSelector;
  const every =
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  const which = every ? 'every namespace' : `the namespaces its namespaceSelector selects`;
  const from = freeze.start === undefined ? 'from its creation' : `from ${freeze.start}`;
  const until = freeze.end === undefined ? 'until it is deleted' : `until ${freeze.end}`;
  return `Freezes ${which} ${from} ${until}: ${freeze.reason}`;
}

function instant(
  text: string | undefined,
  path: string,
  what: string,
  problems: Problem[],
): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!rfc3339.test(text) || Number.isNaN(ms)) {
    problems.push({
      path,
      message: `${path} is "${text}", which is not an RFC 3339 time.`,
      fix: `Set it to ${what} with a date, a time and a zone, e.g. "2026-12-18T00:00:00Z" or "2026-12-18T00:00:00+01:00".`,
    });
    return undefined;
  }
  return ms;
}

/** zod's words for a type error, about a RolloutFreeze rather than a Canary. */
function freezeIssue(issue: z.core.$ZodIssue, root: unknown): Problem {
  const problem = describeIssue(issue, root);
  if (problem.path === '')
    return { ...problem, message: problem.message.replace(/^The Canary/, 'The RolloutFreeze') };
  if (/Flagger Canary schema/.test(problem.fix)) {
    return {
      ...problem,
      fix: 'Correct the field to match the RolloutFreeze schema (kubectl explain rolloutfreeze.spec).',
    };
  }
  return problem;
}
