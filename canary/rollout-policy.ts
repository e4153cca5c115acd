// Cutover's own policy object, `RolloutPolicy` (cutover.dev/v1alpha1), which sits beside Flagger's
// Canary and selects Canaries by label: a Canary's YAML stays Flagger's, and Cutover's extensions
// (the switch strategy, and later approvals and deploy windows) live here. Pure: importable from
// workflow code. A Canary that no policy selects behaves exactly as Flagger's `kubernetes` provider.
//
// Validation follows the Canary's (`validate.ts`): every problem at once, each naming the field and
// the fix, because the answer ends up in the policy's `Ready` condition and a Warning event. It is
// done against the Canary the policy selects, since the post-promotion analysis defaults from it.
//
// Deploy-window schedules are read with croner and rrule (canary/deploy-schedule.ts), which compute
// and do no I/O; workflow code imports only this module's types, so neither reaches the bundle.
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration.ts';
import type { ApprovalRule, ChangeWindows, DeployWindow, InconclusivePolicy } from './change-control.ts';
import { isTimeZone, parseSchedule } from './deploy-schedule.ts';
import { describeIssue, type Problem } from './problems.ts';
import { canaryMetricSchema, conditionSchema, objectMetaSchema } from './spec.ts';
import {
  resolveAnalysisInterval,
  resolveMetricChecks,
  type MetricCheck,
  type ValidateOptions,
  type ValidCanary,
} from './validate.ts';

export const rolloutPolicyGroup = 'cutover.dev';
export const rolloutPolicyVersion = 'v1alpha1';
export const rolloutPolicyPlural = 'rolloutpolicies';
export const rolloutPolicyKind = 'RolloutPolicy';
export const rolloutPolicyApiVersion = `${rolloutPolicyGroup}/${rolloutPolicyVersion}`;

/**
 * How a promotion reaches production.
 * - `copy`: Flagger's way: the analysed template is copied to `-primary` and rolled out there.
 * - `switch`: the apex Service flips to the green pods that were analysed; blue stays warm for a
 *   window with a post-promotion analysis; then the template is copied and the apex flips back.
 */
export type PromotionStrategy = 'copy' | 'switch';
export const promotionStrategies = ['copy', 'switch'] as const satisfies readonly PromotionStrategy[];

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
  /** `spec.approvals`: N distinct approvers before promotion. */
  approvals?: ApprovalRule;
  /** `spec.windows`: allow and deny windows (freezes are separate objects, read at each gate). */
  windows?: ChangeWindows;
  /** `spec.analysis.inconclusive`: what no data or a failed query means. Unset: `fail`, as Flagger. */
  inconclusive?: InconclusivePolicy;
}

export const rolloutPolicyDefaults = {
  strategy: 'copy',
  keepWarm: '10m',
  timeZone: 'UTC',
  requireVerified: true,
  inconclusiveAction: 'fail',
  pauseAfter: 3,
} as const;

export const inconclusiveActions = [
  'fail',
  'skip',
  'pause',
] as const satisfies readonly InconclusivePolicy['action'][];

// ---- the object as parsed ----

const stringMap = z.record(z.string(), z.string());

/** Kubernetes' `metav1.LabelSelectorRequirement`; the operator is checked in words below. */
export const labelSelectorRequirementSchema = z.looseObject({
  key: z.string(),
  operator: z.string(),
  values: z.array(z.string()).optional(),
});

/** Kubernetes' `metav1.LabelSelector`: `{}` selects everything, as in a NetworkPolicy or a PDB. */
export const labelSelectorSchema = z.looseObject({
  matchLabels: stringMap.optional(),
  matchExpressions: z.array(labelSelectorRequirementSchema).optional(),
});
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

export const rolloutPolicySwitchSchema = z.looseObject({
  keepWarm: z.string().default(rolloutPolicyDefaults.keepWarm),
  analysis: z
    .looseObject({
      interval: z.string().optional(),
      threshold: z.number().optional(),
      metrics: z.array(canaryMetricSchema).optional(),
    })
    .optional(),
});

export const rolloutPolicyApprovalsSchema = z.looseObject({
  required: z.number(),
  from: z
    .looseObject({
      users: z.array(z.string()).optional(),
      groups: z.array(z.string()).optional(),
    })
    .optional(),
  validFor: z.string().optional(),
  requireVerified: z.boolean().default(rolloutPolicyDefaults.requireVerified),
});

export const deployWindowSchema = z.looseObject({
  name: z.string().optional(),
  schedule: z.string(),
  duration: z.string(),
});

export const rolloutPolicyWindowsSchema = z.looseObject({
  timeZone: z.string().default(rolloutPolicyDefaults.timeZone),
  allow: z.array(deployWindowSchema).default([]),
  deny: z.array(deployWindowSchema).default([]),
});

export const rolloutPolicyAnalysisSchema = z.looseObject({
  inconclusive: z
    .looseObject({
      action: z.enum(inconclusiveActions).default(rolloutPolicyDefaults.inconclusiveAction),
      pauseAfter: z.number().optional(),
    })
    .optional(),
});

export const rolloutPolicySpecSchema = z.looseObject({
  // Optional here so that its absence is reported in words, with both ways to write it.
  selector: labelSelectorSchema.optional(),
  strategy: z.enum(promotionStrategies).default(rolloutPolicyDefaults.strategy),
  switch: rolloutPolicySwitchSchema.optional(),
  approvals: rolloutPolicyApprovalsSchema.optional(),
  windows: rolloutPolicyWindowsSchema.optional(),
  analysis: rolloutPolicyAnalysisSchema.optional(),
});

export const rolloutPolicyStatusSchema = z.looseObject({
  observedGeneration: z.number().optional(),
  conditions: z.array(conditionSchema).optional(),
});
export type RolloutPolicyStatus = z.infer<typeof rolloutPolicyStatusSchema>;

export const rolloutPolicySchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema.default({}),
  spec: rolloutPolicySpecSchema,
  status: rolloutPolicyStatusSchema.optional(),
});
/** A RolloutPolicy as parsed: types checked, defaults filled in, unknown fields kept. */
export type RolloutPolicy = z.infer<typeof rolloutPolicySchema>;

// ---- selection ----

export const selectorOperators = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** The problems of a label selector at `path` (missing, unknown operators, values that do not fit). */
export function selectorProblems(selector: LabelSelector | undefined, path: string): Problem[] {
  if (selector === undefined) {
    return [
      {
        path,
        message: `${path} is missing, so the policy does not say which Canaries it is for.`,
        fix: 'Add selector: {matchLabels: {app: <label value>}} to select Canaries by label, or selector: {} to select every Canary in the namespace.',
      },
    ];
  }
  const problems: Problem[] = [];
  (selector.matchExpressions ?? []).forEach((requirement, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const values = requirement.values ?? [];
    if (requirement.key === '') {
      problems.push({ path: `${at}.key`, message: `${at}.key is empty.`, fix: 'Name the label to test.' });
    }
    if (!(selectorOperators as readonly string[]).includes(requirement.operator)) {
      problems.push({
        path: `${at}.operator`,
        message: `${at}.operator is "${requirement.operator}", which is not a label selector operator.`,
        fix: `Use one of ${selectorOperators.join(', ')} (spelled with these capitals).`,
      });
    } else if ((requirement.operator === 'In' || requirement.operator === 'NotIn') && values.length === 0) {
      problems.push({
        path: `${at}.values`,
        message: `${at}.values is empty, but ${requirement.operator} needs at least one value to compare with.`,
        fix: `List the label values, or use ${requirement.operator === 'In' ? 'Exists' : 'DoesNotExist'} to test only for the label.`,
      });
    } else if (
      (requirement.operator === 'Exists' || requirement.operator === 'DoesNotExist') &&
      values.length > 0
    ) {
      problems.push({
        path: `${at}.values`,
        message: `${at}.values is set, but ${requirement.operator} tests only whether the label is there.`,
        fix: 'Remove values, or use In / NotIn to compare with them.',
      });
    }
  });
  return problems;
}

/** Whether a valid selector selects an object with these labels (Kubernetes' rules: all must hold). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const value = labels[key];
    const holds =
      operator === 'In'
        ? has && values.includes(value ?? '')
        : operator === 'NotIn'
          ? !has || !values.includes(value ?? '')
          : operator === 'Exists'
            ? has
            : operator === 'DoesNotExist'
              ? !has
              : false;
    if (!holds) return false;
  }
  return true;
}

/**
 * Whether a stored policy selects these labels. A policy whose selector is broken selects nothing
 * (guessing what it meant could put a Canary under the wrong strategy); `problems` say what to fix.
 */
export function policySelects(
  raw: unknown,
  labels: Readonly<Record<string, string>>,
): { selects: boolean; problems: Problem[] } {
  const rawSelector = (raw as { spec?: { selector?: unknown } } | null)?.spec?.selector;
  if (rawSelector === undefined)
    return { selects: false, problems: selectorProblems(undefined, 'spec.selector') };
  const parsed = labelSelectorSchema.safeParse(rawSelector);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      policyIssue({ ...issue, path: ['spec', 'selector', ...issue.path] }, raw),
    );
    return { selects: false, problems };
  }
  const problems = selectorProblems(parsed.data, 'spec.selector');
  if (problems.length > 0) return { selects: false, problems };
  return { selects: selectorMatches(parsed.data, labels), problems: [] };
}

// ---- validation ----

export type RolloutPolicyValidation =
  | { ok: true; policy: ResolvedRolloutPolicy; warnings: Problem[] }
  | { ok: false; problems: Problem[]; warnings: Problem[] };

/**
 * Can a rollout of `canary` run under this policy? Resolves the switch settings against the Canary
 * (the post-promotion analysis defaults from it). Never throws: the input is whatever was applied.
 */
export function validateRolloutPolicy(
  raw: unknown,
  canary: Pick<ValidCanary, 'namespace' | 'analysis'>,
  options: Pick<ValidateOptions, 'minInterval'> = {},
): RolloutPolicyValidation {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    const problem = {
      path: '',
      message: `The RolloutPolicy is ${raw === null ? 'null' : Array.isArray(raw) ? 'a list' : typeof raw}, not an object.`,
      fix: 'Pass a whole RolloutPolicy object (apiVersion, kind, metadata, spec).',
    };
    return { ok: false, problems: [problem], warnings: [] };
  }
  const parsed = rolloutPolicySchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((issue) => policyIssue(issue, raw)), warnings: [] };
  }
  const policy = parsed.data;
  const problems: Problem[] = [];
  const warnings: Problem[] = [];

  if (policy.kind !== undefined && policy.kind !== rolloutPolicyKind) {
    problems.push({
      path: 'kind',
      message: `kind is "${policy.kind}", not ${rolloutPolicyKind}.`,
      fix: `Set kind: ${rolloutPolicyKind}.`,
    });
  }
  if (policy.apiVersion !== undefined && policy.apiVersion !== rolloutPolicyApiVersion) {
    problems.push({
      path: 'apiVersion',
      message: `apiVersion is "${policy.apiVersion}", which Cutover does not serve for RolloutPolicy.`,
      fix: `Set apiVersion: ${rolloutPolicyApiVersion}.`,
    });
  }
  const name = policy.metadata.name ?? '';
  if (name === '') {
    problems.push({
      path: 'metadata.name',
      message: 'metadata.name is missing.',
      fix: 'Give the RolloutPolicy a name.',
    });
  }
  problems.push(...selectorProblems(policy.spec.selector, 'spec.selector'));
  const control = resolveChangeControl(policy.spec);
  problems.push(...control.problems);
  warnings.push(...control.warnings);

  if (policy.spec.strategy === 'copy') {
    if (policy.spec.switch !== undefined) {
      warnings.push({
        path: 'spec.switch',
        message:
          'spec.switch is ignored: spec.strategy is copy (Flagger\u2019s promotion), which has no keep-warm window.',
        fix: 'Set strategy: switch to use it, or remove switch.',
      });
    }
    if (problems.length > 0) return { ok: false, problems, warnings };
    return { ok: true, policy: { name, strategy: 'copy', ...control.resolved }, warnings };
  }

  const resolved = resolveSwitch(policy.spec.switch ?? rolloutPolicySwitchSchema.parse({}), canary, options);
  problems.push(...resolved.problems);
  warnings.push(...resolved.warnings);
  if (problems.length > 0 || resolved.switch === undefined) return { ok: false, problems, warnings };
  return {
    ok: true,
    policy: { name, strategy: 'switch', switch: resolved.switch, ...control.resolved },
    warnings,
  };
}

type ChangeControl = Pick<ResolvedRolloutPolicy, 'approvals' | 'windows' | 'inconclusive'>;

/** `spec.approvals`, `spec.windows` and `spec.analysis.inconclusive`, resolved; only the keys the policy sets. */
function resolveChangeControl(spec: z.infer<typeof rolloutPolicySpecSchema>): {
  resolved: ChangeControl;
  problems: Problem[];
  warnings: Problem[];
} {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const resolved: ChangeControl = {};
  if (spec.approvals !== undefined) {
    const approvals = resolveApprovals(spec.approvals, problems);
    if (approvals !== undefined) resolved.approvals = approvals;
  }
  if (spec.windows !== undefined) {
    const windows = resolveWindows(spec.windows, problems, warnings);
    if (windows !== undefined) resolved.windows = windows;
  }
  const inconclusive = spec.analysis?.inconclusive;
  if (inconclusive !== undefined) {
    const path = 'spec.analysis.inconclusive.pauseAfter';
    const pauseAfter = inconclusive.pauseAfter ?? rolloutPolicyDefaults.pauseAfter;
    if (!Number.isInteger(pauseAfter) || pauseAfter < 1) {
      problems.push({
        path,
        message: `${path} is ${pauseAfter}, but it must be a whole number of at least 1 (the inconclusive ticks in a row before the analysis pauses).`,
        fix: `Set it to 1 to pause on the first inconclusive tick, or higher; or remove it for the default of ${rolloutPolicyDefaults.pauseAfter}.`,
      });
    } else {
      if (inconclusive.action !== 'pause' && inconclusive.pauseAfter !== undefined) {
        warnings.push({
          path,
          message: `${path} is ignored: spec.analysis.inconclusive.action is ${inconclusive.action}, and only pause counts inconclusive ticks.`,
          fix: 'Set action: pause to use it, or remove pauseAfter.',
        });
      }
      resolved.inconclusive = { action: inconclusive.action, pauseAfter };
    }
  }
  return { resolved, problems, warnings };
}

function resolveApprovals(
  approvals: z.infer<typeof rolloutPolicyApprovalsSchema>,
  problems: Problem[],
): ApprovalRule | undefined {
  const before = problems.length;
  const users = approvals.from?.users ?? [];
  const groups = approvals.from?.groups ?? [];
  const { required } = approvals;
  if (!Number.isInteger(required) || required < 1) {
    problems.push({
      path: 'spec.approvals.required',
      message: `spec.approvals.required is ${required}, but it must be a whole number of at least 1 (the distinct approvers needed before promotion).`,
      fix: 'Set it to 1 or more, or remove spec.approvals to promote without approvals.',
    });
  } else if (groups.length === 0 && users.length > 0 && required > new Set(users).size) {
    const named = new Set(users).size;
    problems.push({
      path: 'spec.approvals.required',
      message: `spec.approvals.required is ${required}, but spec.approvals.from names only ${named} user${named === 1 ? '' : 's'} and no groups, so no rollout could ever be approved.`,
      fix: `Lower required to ${named} or less, name more users in from.users, or add from.groups.`,
    });
  }
  for (const [list, values] of [
    ['users', users],
    ['groups', groups],
  ] as const) {
    values.forEach((value, i) => {
      if (value.trim() === '') {
        const path = `spec.approvals.from.${list}[${i}]`;
        problems.push({
          path,
          message: `${path} is empty.`,
          fix: `Name the ${list === 'users' ? 'user, as Kubernetes authenticates them (e.g. alice or system:serviceaccount:ci:deployer)' : 'group, as Kubernetes authenticates it (e.g. release-managers)'}, or remove the entry.`,
        });
      }
    });
  }
  let validForMs: number | undefined;
  if (approvals.validFor !== undefined) {
    validForMs = positiveDuration(
      approvals.validFor,
      'spec.approvals.validFor',
      'how long an approval counts after it is given, e.g. "24h" (or remove it: an approval counts for the whole rollout)',
      problems,
    );
  }
  if (problems.length > before) return undefined;
  return {
    required,
    users,
    groups,
    ...(validForMs !== undefined ? { validForMs } : {}),
    requireVerified: approvals.requireVerified,
  };
}

function resolveWindows(
  windows: z.infer<typeof rolloutPolicyWindowsSchema>,
  problems: Problem[],
  warnings: Problem[],
): ChangeWindows | undefined {
  const before = problems.length;
  const { timeZone } = windows;
  const knownZone = isTimeZone(timeZone);
  if (!knownZone) {
    problems.push({
      path: 'spec.windows.timeZone',
      message: `spec.windows.timeZone is "${timeZone}", which is not an IANA time zone this worker knows.`,
      fix: 'Use a tz database name such as Europe/Berlin, America/New_York or UTC (spelled with these capitals).',
    });
  }
  const names = new Map<string, string>();
  const resolve = (list: 'allow' | 'deny'): DeployWindow[] =>
    windows[list].flatMap((w, i) => {
      const at = `spec.windows.${list}[${i}]`;
      const name = w.name === undefined || w.name.trim() === '' ? at : w.name;
      const seen = names.get(name);
      if (seen !== undefined) {
        problems.push({
          path: `${at}.name`,
          message: `${at}.name is "${name}", the name of ${seen} too, so events could not say which window applies.`,
          fix: 'Give each window its own name.',
        });
      }
      names.set(name, at);
      const count = problems.length;
      // With an unknown zone the schedule is still read (in UTC), so that its own mistakes show now.
      const parsed = parseSchedule(w.schedule, knownZone ? timeZone : 'UTC');
      if (!parsed.ok) {
        problems.push({
          path: `${at}.schedule`,
          message: `${at}.schedule cannot be read: ${parsed.reason}.`,
          fix: 'Write a 5-field cron expression such as "0 9 * * 1-5" (09:00 on weekdays), or an RRULE such as "FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=9".',
        });
      }
      const duration = parseDuration(w.duration);
      let durationMs: number | undefined;
      if (!duration.ok) {
        problems.push({
          path: `${at}.duration`,
          message: `${at}.duration is not a duration: ${duration.reason}.`,
          fix: `Set it to how long the window ${list === 'allow' ? 'stays open' : 'denies changes'} after each start, e.g. "8h".`,
        });
      } else if (duration.ms <= 0) {
        problems.push({
          path: `${at}.duration`,
          message: `${at}.duration is "${w.duration}", so the window ${list === 'allow' ? 'never opens' : 'denies nothing'}.`,
          fix: `Set it to how long the window ${list === 'allow' ? 'stays open' : 'denies changes'} after each start, e.g. "8h", or remove the window.`,
        });
      } else {
        durationMs = duration.ms;
      }
      if (problems.length > count || durationMs === undefined) return [];
      return [{ name, schedule: w.schedule, durationMs }];
    });
  const allow = resolve('allow');
  const deny = resolve('deny');
  if (problems.length > before) return undefined;
  if (allow.length === 0 && deny.length === 0) {
    warnings.push({
      path: 'spec.windows',
      message: 'spec.windows lists no allow and no deny windows, so it changes nothing.',
      fix: 'Add allow windows (changes only inside them) or deny windows (never inside them), or remove windows.',
    });
  }
  return { timeZone, allow, deny };
}

type SwitchSettings = NonNullable<ResolvedRolloutPolicy['switch']>;

function resolveSwitch(
  settings: z.infer<typeof rolloutPolicySwitchSchema>,
  canary: Pick<ValidCanary, 'namespace' | 'analysis'>,
  options: Pick<ValidateOptions, 'minInterval'>,
): { switch?: SwitchSettings; problems: Problem[]; warnings: Problem[] } {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const keepWarmMs = positiveDuration(
    settings.keepWarm,
    'spec.switch.keepWarm',
    'how long blue stays warm after the switch, e.g. "10m"',
    problems,
  );

  const analysis = settings.analysis ?? {};
  let intervalMs: number | undefined = canary.analysis.intervalMs;
  if (analysis.interval !== undefined) {
    const interval = resolveAnalysisInterval(analysis.interval, 'spec.switch.analysis.interval', options);
    problems.push(...interval.problems);
    intervalMs = interval.ms;
  }
  const threshold = analysis.threshold ?? canary.analysis.threshold;
  if (!Number.isInteger(threshold) || threshold < 1) {
    problems.push({
      path: 'spec.switch.analysis.threshold',
      message: `spec.switch.analysis.threshold is ${threshold}, but it must be a whole number of at least 1 (the failed checks that flip back to blue).`,
      fix: 'Set it to 1 to flip back on the first failed check, or higher to tolerate some; or remove it to use the Canary\u2019s threshold.',
    });
  }
  let metrics: MetricCheck[] = canary.analysis.metrics;
  if (analysis.metrics !== undefined) {
    const resolved = resolveMetricChecks(analysis.metrics, 'spec.switch.analysis.metrics', canary.namespace);
    problems.push(...resolved.problems);
    warnings.push(...resolved.warnings);
    metrics = resolved.metrics;
  }
  if (keepWarmMs === undefined || intervalMs === undefined || problems.length > 0) {
    return { problems, warnings };
  }

  if (metrics.length > 0) {
    const checks = Math.floor(keepWarmMs / intervalMs);
    const interval = `${formatDuration(intervalMs)}${analysis.interval === undefined ? ' (the Canary\u2019s analysis.interval)' : ''}`;
    if (checks < 1) {
      problems.push({
        path: 'spec.switch.keepWarm',
        message: `spec.switch.keepWarm is "${settings.keepWarm}", shorter than the post-promotion interval of ${interval}, so not one check would run before blue is released.`,
        fix: `Set keepWarm to ${formatDuration(intervalMs * Math.max(threshold, 1))} or more, or set switch.analysis.interval shorter.`,
      });
    } else if (checks < threshold) {
      warnings.push({
        path: 'spec.switch.analysis.threshold',
        message: `spec.switch.analysis.threshold is ${threshold}, but only ${checks} checks fit in the keep-warm window (${settings.keepWarm} every ${interval}), so the post-promotion analysis can never flip back to blue.`,
        fix: `Lower threshold to ${checks} or less, or lengthen keepWarm to ${formatDuration(intervalMs * threshold)}.`,
      });
    }
  }
  return { switch: { keepWarmMs, analysis: { intervalMs, threshold, metrics } }, problems, warnings };
}

function positiveDuration(text: string, path: string, what: string, problems: Problem[]): number | undefined {
  const parsed = parseDuration(text);
  if (!parsed.ok) {
    problems.push({
      path,
      message: `${path} is not a duration: ${parsed.reason}.`,
      fix: `Set it to ${what}.`,
    });
    return undefined;
  }
  if (parsed.ms <= 0) {
    problems.push({
      path,
      message: `${path} is "${text}", but it must be longer than zero.`,
      fix: `Set it to ${what}.`,
    });
    return undefined;
  }
  return parsed.ms;
}

/** zod's words for a type error, about a RolloutPolicy rather than a Canary. */
function policyIssue(issue: z.core.$ZodIssue, root: unknown): Problem {
  const problem = describeIssue(issue, root);
  if (problem.path === '')
    return { ...problem, message: problem.message.replace(/^The Canary/, 'The RolloutPolicy') };
  if (/Flagger Canary schema/.test(problem.fix)) {
    return {
      ...problem,
      fix: 'Correct the field to match the RolloutPolicy schema (kubectl explain rolloutpolicy.spec).',
    };
  }
  return problem;
}
