// The metric names a PromQL expression reads, so that a dashboard can be checked against what an exporter
// really serves. Not a PromQL parser: it drops what cannot name a metric (strings, label matchers, ranges,
// grouping clauses, numbers, durations, keywords, function names) and keeps the identifiers left. That is
// enough for the expressions a dashboard holds, and the real Prometheus checks their syntax besides.

const keywords = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/** Every metric an expression selects, sorted, once each; Grafana's `$variables` are allowed anywhere. */
export function promqlMetricNames(expression: string): string[] {
  const stripped = expression
    // Strings first: a label value may hold anything, braces and brackets included.
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const before = stripped[match.index - 1] ?? ' ';
    const after = stripped.slice(match.index + name.length).trimStart();
    if (/[0-9.$]/.test(before)) continue; // 1e3, 5m (offset), $variable
    if (after.startsWith('(')) continue; // a function
    if (keywords.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}

/**
 * The metrics a Grafana variable's query reads: `label_values(metric{…}, label)` and `query_result(expr)`
 * as Grafana's Prometheus data source spells them, or a plain `metrics(regex)` (which names none).
 */
export function grafanaVariableMetricNames(query: string): string[] {
  // label_values(label) alone names no metric; label_values(metric, label) and metric{…} do.
  const labelValues = /^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{,]/.exec(query);
  if (labelValues?.[1] !== undefined) return [labelValues[1]];
  const queryResult = /^\s*query_result\((.*)\)\s*$/s.exec(query);
  if (queryResult?.[1] !== undefined) return promqlMetricNames(queryResult[1]);
  return [];
}
