// A problem with an object someone applied, in words a person can act on, and the ways to show it:
// one message for a status condition or a Warning event, and zod's type errors rephrased so that
// they name the field, what is there and what to write instead.
import type { z } from 'zod';

/** One thing wrong with a Canary: `message` says what (naming `path`), `fix` says what to change. */
export interface Problem {
  /** The field, as in `spec.analysis.metrics[0].thresholdRange`; "" for the object itself. */
  path: string;
  message: string;
  fix: string;
}

/** Problems as one message for a status condition or a Warning event, within `maxLength` characters. */
export function formatProblems(problems: readonly Problem[], maxLength = 1024): string {
  if (problems.length === 0) return '';
  const lines = problems.map((p) => `${p.message} ${p.fix}`);
  const head = problems.length === 1 ? '' : `${problems.length} problems: `;
  let text = head + lines.join(' ');
  if (text.length <= maxLength) return text;
  // Keep whole sentences and say how many were left out; cut a sentence only if not even one fits.
  let kept = 0;
  text = head;
  for (const line of lines) {
    const tail = more(lines.length - kept - 1);
    const next = (kept === 0 ? '' : ' ') + line;
    if (text.length + next.length + tail.length > maxLength) break;
    text += next;
    kept += 1;
  }
  if (kept === 0) {
    const tail = more(lines.length - 1);
    const room = Math.max(0, maxLength - head.length - tail.length - 1);
    text = `${head}${(lines[0] ?? '').slice(0, room)}\u2026`;
    return (text + tail).slice(0, maxLength);
  }
  return text + more(lines.length - kept);
}

function more(count: number): string {
  return count > 0 ? ` (and ${count} more)` : '';
}

export function notAnObject(obj: unknown): Problem | undefined {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) return undefined;
  return {
    path: '',
    message: `The Canary is ${describeValue(obj)}, not an object.`,
    fix: 'Pass a whole Canary object (apiVersion, kind, metadata, spec).',
  };
}

export function describeIssue(issue: z.core.$ZodIssue, root: unknown): Problem {
  const path = formatPath(issue.path);
  const value = valueAt(root, issue.path);
  const field = path || 'The Canary';
  if (issue.code === 'invalid_type') {
    const expected = issue.expected;
    if (value === undefined) {
      return { path, message: `${field} is missing.`, fix: `Add it (${article(expected)}).` };
    }
    return {
      path,
      message: `${field} should be ${article(expected)}, but it is ${describeValue(value)}.`,
      fix: fixForType(expected),
    };
  }
  if (issue.code === 'invalid_union') {
    return {
      path,
      message: `${field} is ${describeValue(value)}, which is not a port number or name.`,
      fix: 'Write a number (e.g. 9898) or a container port name (e.g. http).',
    };
  }
  if (issue.code === 'invalid_value') {
    return {
      path,
      message: `${field} is ${describeValue(value)}.`,
      fix: `Use one of ${issue.values.map(String).join(', ')}.`,
    };
  }
  return {
    path,
    message: `${field} is invalid: ${issue.message}.`,
    fix: 'Correct the field to match the Flagger Canary schema.',
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

function article(expected: string): string {
  const words: Record<string, string> = {
    number: 'a number',
    string: 'text',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping of fields',
    record: 'a mapping of names to text',
  };
  return words[expected] ?? expected;
}

function fixForType(expected: string): string {
  switch (expected) {
    case 'number':
      return 'Write a plain number, without quotes.';
    case 'string':
      return 'Write it as text; quote it if YAML reads it as a number or boolean.';
    case 'boolean':
      return 'Write true or false, without quotes.';
    case 'array':
      return 'Write a list (lines starting with "- ").';
    default:
      return 'Write a mapping of fields (indented key: value lines).';
  }
}
