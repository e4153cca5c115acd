// Renders the query of a Flagger MetricTemplate the way Flagger's Go template does for the
// actions MetricTemplates use: `{{ name }}`, `{{ namespace }}`, `{{ target }}`, `{{ service }}`,
// `{{ ingress }}`, `{{ interval }}` and `{{ variables.x }}` (from the Canary's `templateVariables`).
// Pure: importable from workflow code. It returns a result instead of throwing, because a broken
// template is a failed check the workflow reports, not a workflow-task failure Temporal retries.

/** What a MetricTemplate query can refer to, for one Canary and one metric. */
export interface QueryTemplateModel {
  /** The Canary's name. */
  name: string;
  namespace: string;
  /** `spec.targetRef.name`. */
  target: string;
  /** `spec.service.name`; Flagger falls back to the target's name. */
  service?: string;
  /** `spec.ingressRef.name`; Flagger falls back to the target's name. */
  ingress?: string;
  /** The metric's interval, e.g. `1m`. */
  interval: string;
  /** The metric's `templateVariables`. */
  variables?: Record<string, string>;
}

export type RenderedQuery = { ok: true; query: string } | { ok: false; error: string };

const knownNames = ['name', 'namespace', 'target', 'service', 'ingress', 'interval'] as const;
type KnownName = (typeof knownNames)[number];

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const variableRef = /^variables\.([A-Za-z_][A-Za-z0-9_-]*)$/;

/**
 * Substitutes every `{{ … }}` action of `template`. Whitespace inside the braces is ignored, and
 * Go's trim markers (`{{- x -}}`) and comments (`{{/* … *\/}}`) behave as in Go.
 */
export function renderQueryTemplate(template: string, model: QueryTemplateModel): RenderedQuery {
  const values: Record<KnownName, string> = {
    name: model.name,
    namespace: model.namespace,
    target: model.target,
    service: model.service || model.target,
    ingress: model.ingress || model.target,
    interval: model.interval,
  };
  let output = '';
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open < 0) {
      output += rest;
      break;
    }
    let text = rest.slice(0, open);
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) {
      return { ok: false, error: `unclosed action: "${excerpt(rest.slice(open))}" has no closing "}}"` };
    }
    let action = rest.slice(open + 2, close);
    rest = rest.slice(close + 2);
    // Go's trim markers need a space next to the dash: `{{- x }}` trims before, `{{ x -}}` after.
    if (/^-\s/.test(action)) {
      text = text.replace(/\s+$/, '');
      action = action.slice(1);
    }
    let trimAfter = false;
    if (/\s-$/.test(action)) {
      trimAfter = true;
      action = action.slice(0, -1);
    }
    output += text;
    if (trimAfter) rest = rest.replace(/^\s+/, '');
    const resolved = resolveAction(action.trim(), values, model.variables ?? {});
    if (!resolved.ok) return resolved;
    output += resolved.query;
  }
  return { ok: true, query: output };
}

function resolveAction(
  action: string,
  values: Record<KnownName, string>,
  variables: Record<string, string>,
): RenderedQuery {
  if (action.startsWith('/*') && action.endsWith('*/')) return { ok: true, query: '' };
  const variable = variableRef.exec(action);
  if (variable) {
    const key = variable[1] ?? '';
    const value = Object.hasOwn(variables, key) ? variables[key] : undefined;
    if (value === undefined) {
      const known = Object.keys(variables);
      return {
        ok: false,
        error:
          `unknown template variable "variables.${key}": add "${key}" to the metric's templateVariables` +
          ` (${known.length > 0 ? `set: ${known.join(', ')}` : 'none are set'})`,
      };
    }
    return { ok: true, query: value };
  }
  if (identifier.test(action)) {
    if ((knownNames as readonly string[]).includes(action)) {
      return { ok: true, query: values[action as KnownName] };
    }
    return {
      ok: false,
      error: `unknown template variable "${action}": a query can use ${knownNames.map((n) => `{{ ${n} }}`).join(', ')} and {{ variables.<key> }}`,
    };
  }
  return {
    ok: false,
    error: `unsupported template action "{{ ${excerpt(action)} }}": a query can use ${knownNames.map((n) => `{{ ${n} }}`).join(', ')} and {{ variables.<key> }}`,
  };
}

function excerpt(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
