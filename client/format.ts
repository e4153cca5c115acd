// Rendering for the command line, pure: every function takes the time it formats against, so unit
// tests pin the output down exactly. Text is for people; `--output json` prints the data instead.
import type { ChangeWindowVerdict } from '../canary/change-control.ts';
import { formatDuration as formatDurationMs } from '../canary/duration.ts';
import type { ManualAction, RolloutStatus, WaitStatus } from '../workflows/messages.ts';

// ---- primitives ----

/** `[██████░░░░░░] 3/6`; a total of 0 (no analysis) is an empty bar. */
export function progressBar(done: number, total: number, width = 20): string {
  const ratio = total > 0 ? Math.min(Math.max(done / total, 0), 1) : 0;
  const filled = Math.round(ratio * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total}`;
}

/** A short human duration: 450ms, 12s, 3m05s, 2h10m, 4d3h. Negative durations read as 0s. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 60) return ms < 10_000 ? `${(ms / 1_000).toFixed(1).replace(/\.0$/, '')}s` : `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d${hours % 24}h`;
}

/** kubectl-style age: 5s, 3m, 2h, 4d. */
export function formatAge(since: string | Date | undefined, now: Date): string {
  if (since === undefined) return '-';
  const ms = now.getTime() - new Date(since).getTime();
  if (!Number.isFinite(ms)) return '-';
  const seconds = Math.max(0, Math.floor(ms / 1_000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local wall-clock time, `2025-03-01 14:05:09`. */
export function formatTime(at: string | Date | undefined): string {
  if (at === undefined) return '-';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return '-';
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

/** `14:05:09 (12s ago)` / `14:06:00 (in 40s)`. */
export function formatMoment(at: string | Date | undefined, now: Date): string {
  if (at === undefined) return '-';
  const ms = new Date(at).getTime() - now.getTime();
  const relative = ms > 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
  return `${formatTime(at).slice(11)} (${relative})`;
}

/** The metric's allowed range in words: `>= 99`, `<= 500`, `10 .. 20`, `any`. */
export function formatThresholdRange(range: { min?: number; max?: number }): string {
  const { min, max } = range;
  if (min !== undefined && max !== undefined) return `${min} .. ${max}`;
  if (min !== undefined) return `>= ${min}`;
  if (max !== undefined) return `<= ${max}`;
  return 'any';
}

/** A metric value with at most 3 decimals: 99.8734 → 99.873, 212 → 212. */
export function formatValue(value: number | undefined): string {
  if (value === undefined) return 'no data';
  if (!Number.isFinite(value)) return String(value);
  return String(Math.round(value * 1_000) / 1_000);
}

/** Revisions are 16 hex digits; 8 tell them apart in a table (as git's short hashes do). */
export function shortRevision(revision: string | undefined): string {
  return revision ? revision.slice(0, 8) : '-';
}

/** Temporal UI's page of one run: `<ui>/namespaces/<ns>/workflows/<workflowId>/<runId>`. */
export function temporalUiLink(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}` : base;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** `label   value` pairs with the values aligned. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n';
}

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((line) => (line ? by + line : line))
    .join('\n');
}

// ---- list ----

export interface ListRow {
  namespace: string;
  name: string;
  phase?: string;
  revision?: string;
  /** The image the rollout brings (the target's first container). */
  image?: string;
  iteration?: number;
  iterations?: number;
  failedChecks?: number;
  threshold: number;
  createdAt?: string;
  lastTransitionTime?: string;
  /** The running rollout, when there is one. */
  rollout?: { workflowId: string; runId: string; url: string };
}

export function renderList(rows: readonly ListRow[], now: Date): string {
  if (rows.length === 0) return 'No canaries found.\n';
  return table(
    ['CANARY', 'PHASE', 'REVISION', 'IMAGE', 'ITERATION', 'FAILED', 'AGE', 'ROLLOUT'],
    rows.map((r) => [
      `${r.namespace}/${r.name}`,
      r.phase ?? '-',
      shortRevision(r.revision),
      r.image ?? '-',
      `${r.iteration ?? 0}/${r.iterations ?? '-'}`,
      `${r.failedChecks ?? 0}/${r.threshold}`,
      formatAge(r.createdAt, now),
      r.rollout?.url ?? '-',
    ]),
  );
}

// ---- status of a running rollout ----

export interface RunningView {
  workflowId: string;
  runId: string;
  url: string;
  status: RolloutStatus;
  /** The deploy windows and freezes as the gate would find them now, when they could be read. */
  gate?: ChangeWindowVerdict;
}

export function formatWait(wait: WaitStatus | undefined, now: Date): string {
  if (!wait) return 'none (working)';
  return wait.until ? `${wait.what} until ${formatMoment(wait.until, now)}` : wait.what;
}

export function formatManualAction(action: ManualAction): string {
  const groups = action.actor?.groups.filter((g) => !g.startsWith('system:')) ?? [];
  const who = action.actor
    ? `${action.actor.user} (${action.actor.verified ? 'verified' : 'unverified'}${groups.length > 0 ? `, groups ${groups.join(', ')}` : ''})`
    : `${action.by} (as typed)`;
  const what = action.override ? `${action.action} --override` : action.action;
  return `${formatTime(action.at)}  ${what} by ${who}: ${action.reason || '(no reason)'}`;
}

/** The change-control lines of a running rollout: its hold, its approvals, its deploy windows and freezes. */
function changeControlFields(
  status: RolloutStatus,
  now: Date,
  gate?: ChangeWindowVerdict,
): [string, string][] {
  const rows: [string, string][] = [];
  if (status.hold) {
    const opens = status.hold.opensAt ? ` (opens ${formatMoment(status.hold.opensAt, now)})` : '';
    rows.push(['Held', `${status.hold.kind}: ${status.hold.message}${opens}`]);
  }
  const a = status.approvals;
  if (a) {
    const by = a.approvedBy.length > 0 ? `: ${a.approvedBy.join(', ')}` : '';
    const still = a.satisfied
      ? ''
      : `; may still approve: ${a.mayStillApprove.join(', ') || 'anyone allowed by RBAC'}`;
    rows.push(['Approvals', `${a.approvedBy.length} of ${a.required}${by}${still}`]);
  }
  if (status.windows) {
    const list = (kind: string, windows: { name: string; schedule: string; durationMs: number }[]) =>
      windows.map((w) => `${kind} ${w.name} (${w.schedule}, ${formatDurationMs(w.durationMs)})`);
    const all = [...list('allow', status.windows.allow), ...list('deny', status.windows.deny)];
    rows.push(['Deploy windows', `${all.join('; ')} in ${status.windows.timeZone}`]);
  }
  if (gate) rows.push(['Change gate', gate.open ? 'open now' : `closed now: ${gate.message}`]);
  return rows;
}

function metricsTable(status: RolloutStatus, now: Date): string {
  const metrics = Object.values(status.metrics);
  if (metrics.length === 0) return 'Metrics: none checked yet\n';
  return (
    'Metrics:\n' +
    indent(
      table(
        ['NAME', 'VALUE', 'RANGE', 'RESULT', 'CHECKED'],
        metrics.map((m) => [
          m.name,
          formatValue(m.value),
          formatThresholdRange(m.thresholdRange),
          m.passed ? 'pass' : 'FAIL',
          `${formatAge(m.at, now)} ago`,
        ]),
      ),
    )
  );
}

function hooksTable(status: RolloutStatus, now: Date): string {
  const hooks = Object.values(status.hooks);
  if (hooks.length === 0) return 'Hooks: none called yet\n';
  return (
    'Hooks:\n' +
    indent(
      table(
        ['NAME', 'TYPE', 'RESULT', 'CALLED', 'MESSAGE'],
        hooks.map((h) => [h.name, h.type, h.ok ? 'ok' : 'FAIL', `${formatAge(h.at, now)} ago`, h.message]),
      ),
    )
  );
}

export function renderRunning(view: RunningView, now: Date): string {
  const s = view.status;
  const head = fields([
    ['Canary', `${s.canary.namespace}/${s.canary.name} (target ${s.canary.target})`],
    ['Rollout', `${view.workflowId}, started ${formatMoment(s.startedAt, now)}`],
    ['Revision', s.revision],
    ['Phase', s.outcome ? `${s.phase} (${s.outcome})` : s.phase],
    ['Iteration', progressBar(s.iteration, s.iterations)],
    ['Failed checks', `${s.failedChecks}/${s.threshold}`],
    ['Waiting for', formatWait(s.wait, now)],
    ...changeControlFields(s, now, view.gate),
    ['Last event', s.message],
  ]);
  const actions =
    s.manualActions.length === 0
      ? 'Manual actions: none\n'
      : 'Manual actions:\n' + s.manualActions.map((a) => `  ${formatManualAction(a)}\n`).join('');
  return [head, metricsTable(s, now), hooksTable(s, now), actions, `Temporal UI: ${view.url}\n`].join('\n');
}

// ---- status without a running rollout ----

export interface IdleView {
  canary: {
    namespace: string;
    name: string;
    target?: string;
    iterations?: number;
    threshold: number;
    status: {
      phase?: string;
      iterations?: number;
      failedChecks?: number;
      lastAppliedSpec?: string;
      lastPromotedSpec?: string;
      lastTransitionTime?: string;
    };
  };
  last?: {
    workflowId: string;
    runId: string;
    url: string;
    kind: string;
    startTime: string;
    closeTime?: string;
    outcome: string;
    reason: string;
    manualActions: ManualAction[];
  };
}

export function renderIdle(view: IdleView, now: Date): string {
  const { canary, last } = view;
  const st = canary.status;
  const parts = [
    fields([
      ['Canary', `${canary.namespace}/${canary.name}${canary.target ? ` (target ${canary.target})` : ''}`],
      ['Rollout', 'none running'],
      [
        'Phase',
        `${st.phase ?? 'unknown'}${st.lastTransitionTime ? ` since ${formatMoment(st.lastTransitionTime, now)}` : ''}`,
      ],
      ['Applied', st.lastAppliedSpec ?? '-'],
      ['Promoted', st.lastPromotedSpec ?? '-'],
      ['Iteration', `${st.iterations ?? 0}/${canary.iterations ?? '-'}`],
      ['Failed checks', `${st.failedChecks ?? 0}/${canary.threshold}`],
    ]),
  ];
  if (last) {
    parts.push(
      'Last workflow:\n' +
        indent(
          fields([
            ['Workflow', `${last.workflowId} (${last.kind})`],
            ['Ran', `${formatTime(last.startTime)} → ${formatTime(last.closeTime)}`],
            ['Outcome', last.outcome],
            ['Reason', last.reason],
            ...last.manualActions.map((a): [string, string] => ['Manual', formatManualAction(a)]),
            ['Temporal UI', last.url],
          ]),
        ),
    );
  } else {
    parts.push('No rollout recorded in Temporal.\n');
  }
  return parts.join('\n');
}

// ---- watch ----

/** One frame of `cutover watch`: phase, bar, checks, countdown. */
export function renderWatchFrame(view: RunningView, now: Date): string {
  const s = view.status;
  const lines = [
    `${s.canary.namespace}/${s.canary.name}  revision ${shortRevision(s.revision)}  ${s.phase}`,
    `${progressBar(s.iteration, s.iterations, 30)}  failed checks ${s.failedChecks}/${s.threshold}`,
  ];
  for (const m of Object.values(s.metrics)) {
    lines.push(
      `  ${m.passed ? 'pass' : 'FAIL'}  ${m.name}  ${formatValue(m.value)} (want ${formatThresholdRange(m.thresholdRange)})`,
    );
  }
  for (const h of Object.values(s.hooks)) {
    lines.push(`  ${h.ok ? 'ok  ' : 'FAIL'}  ${h.name} (${h.type})  ${h.message}`);
  }
  if (s.wait) {
    const left = s.wait.until
      ? ` in ${formatDuration(new Date(s.wait.until).getTime() - now.getTime())}`
      : '';
    lines.push(`${s.wait.what}${left}`);
  }
  lines.push(s.message);
  return lines.join('\n') + '\n';
}

// ---- history ----

export interface HistoryEntry {
  workflowId: string;
  /** The run that ended it (the last, after continue-as-new). */
  runId: string;
  kind: string;
  revision?: string;
  /** The image the rollout brought (CutoverImage). */
  image?: string;
  startTime: string;
  closeTime?: string;
  outcome: string;
  reason: string;
  manualActions: ManualAction[];
  url: string;
}

export function renderHistory(canary: string, entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return `No rollouts of ${canary} recorded in Temporal.\n`;
  const blocks = entries.map((e) => {
    const when = `${formatTime(e.startTime)} → ${e.closeTime ? formatTime(e.closeTime).slice(11) : 'running'}`;
    const lines = [
      `${shortRevision(e.revision)}  ${e.kind.padEnd(10)}  ${when}  ${e.outcome}${e.image ? `  ${e.image}` : ''}`,
      `  ${e.reason}`,
      ...e.manualActions.map((a) => `  ${formatManualAction(a)}`),
      `  ${e.workflowId}`,
      `  ${e.url}`,
    ];
    return lines.join('\n') + '\n';
  });
  return blocks.join('\n');
}
