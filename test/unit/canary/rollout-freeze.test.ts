import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Problem } from '../../../canary/problems.ts';
import {
  describeFreeze,
  freezeCovers,
  rolloutFreezeGroup,
  rolloutFreezePlural,
  rolloutFreezeVersion,
  validateRolloutFreeze,
} from '../../../canary/rollout-freeze.ts';

function freeze(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'cutover.dev/v1alpha1', kind: 'RolloutFreeze', metadata: { name: 'year-end' }, spec };
}

function problemAt(raw: unknown, path: string): Problem {
  const result = validateRolloutFreeze(raw);
  assert.equal(result.ok, false, 'expected problems');
  const problems = result.ok ? [] : result.problems;
  const found = problems.find((p) => p.path === path);
  assert.ok(found, `no problem at ${path}; got ${JSON.stringify(problems)}`);
  assert.ok(found.message.includes(path) || path === '', 'the message names the field');
  assert.match(found.fix, /^[A-Z].*\.$/, 'the fix is a sentence');
  return found;
}

test('a freeze with a selector, a start, an end and a reason resolves as written', () => {
  const result = validateRolloutFreeze(
    freeze({
      namespaceSelector: { matchLabels: { tier: 'prod' } },
      start: '2026-12-18T00:00:00+01:00',
      end: '2027-01-04T00:00:00Z',
      reason: ' Year-end freeze, ask #release ',
    }),
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.deepEqual(result.freeze, {
    name: 'year-end',
    namespaceSelector: { matchLabels: { tier: 'prod' } },
    start: '2026-12-18T00:00:00+01:00',
    end: '2027-01-04T00:00:00Z',
    reason: 'Year-end freeze, ask #release',
  });
  assert.equal(freezeCovers(result.freeze, { tier: 'prod', team: 'a' }), true);
  assert.equal(freezeCovers(result.freeze, { tier: 'dev' }), false);
  assert.equal(
    describeFreeze(result.freeze),
    'Freezes the namespaces its namespaceSelector selects from 2026-12-18T00:00:00+01:00 until 2027-01-04T00:00:00Z: Year-end freeze, ask #release',
  );
});

test('{} freezes every namespace, from now until the freeze is deleted', () => {
  const result = validateRolloutFreeze(freeze({ namespaceSelector: {}, reason: 'incident 42' }));
  assert.ok(result.ok);
  assert.equal(freezeCovers(result.freeze, {}), true);
  assert.equal(
    describeFreeze(result.freeze),
    'Freezes every namespace from its creation until it is deleted: incident 42',
  );
});

test('a missing selector, bad times, an end before the start and no reason each name the field and the fix', () => {
  assert.match(problemAt(freeze({ reason: 'r' }), 'spec.namespaceSelector').fix, /namespaceSelector: \{\}/);
  assert.match(
    problemAt(freeze({ namespaceSelector: {}, reason: 'r', start: 'next monday' }), 'spec.start').message,
    /not an RFC 3339 time/,
  );
  assert.match(
    problemAt(freeze({ namespaceSelector: {}, reason: 'r', end: '2026-12-18' }), 'spec.end').fix,
    /2026-12-18T00:00:00Z/,
  );
  assert.match(
    problemAt(
      freeze({
        namespaceSelector: {},
        reason: 'r',
        start: '2026-12-18T00:00:00Z',
        end: '2026-12-17T00:00:00Z',
      }),
      'spec.end',
    ).message,
    /not after spec.start/,
  );
  assert.match(problemAt(freeze({ namespaceSelector: {} }), 'spec.reason').message, /missing/);
  assert.match(problemAt(freeze({ namespaceSelector: {}, reason: '  ' }), 'spec.reason').message, /empty/);
  assert.match(
    problemAt(
      freeze({
        namespaceSelector: { matchExpressions: [{ key: 'tier', operator: 'in', values: ['prod'] }] },
        reason: 'r',
      }),
      'spec.namespaceSelector.matchExpressions[0].operator',
    ).fix,
    /In, NotIn, Exists, DoesNotExist/,
  );
  assert.match(problemAt(freeze({ namespaceSelector: {}, reason: 7 }), 'spec.reason').fix, /text/);
  const all = validateRolloutFreeze(freeze({ start: 'x', end: 'y' }));
  assert.equal(all.ok, false);
  assert.deepEqual(
    all.ok ? [] : all.problems.map((p) => p.path),
    ['spec.namespaceSelector', 'spec.start', 'spec.end', 'spec.reason'],
    'every problem at once',
  );
});

test('what is not a RolloutFreeze is said so', () => {
  for (const raw of [null, 'freeze', []]) {
    const result = validateRolloutFreeze(raw);
    assert.equal(result.ok, false);
    assert.match(
      result.ok ? '' : (result.problems[0]?.message ?? ''),
      /The RolloutFreeze is .* not an object/,
    );
  }
  assert.match(
    problemAt({ ...freeze({ namespaceSelector: {}, reason: 'r' }), kind: 'Freeze' }, 'kind').fix,
    /RolloutFreeze/,
  );
  assert.match(problemAt({ metadata: { name: 'x' } }, 'spec').message, /missing/);
});

test('the CRD serves RolloutFreeze cluster-wide as cutover.dev/v1alpha1, with its columns and rules', () => {
  const crd = parse(
    readFileSync(new URL('../../../deploy/crds/rolloutfreezes.cutover.dev.yaml', import.meta.url), 'utf8'),
  );
  assert.equal(crd.metadata.name, `${rolloutFreezePlural}.${rolloutFreezeGroup}`);
  assert.equal(crd.spec.scope, 'Cluster');
  assert.equal(crd.spec.names.kind, 'RolloutFreeze');
  const [version] = crd.spec.versions;
  assert.equal(version.name, rolloutFreezeVersion);
  assert.deepEqual(version.subresources, { status: {} });
  assert.deepEqual(
    version.additionalPrinterColumns.map((c: { name: string }) => c.name),
    ['Start', 'End', 'Reason', 'Ready', 'Age'],
  );
  const spec = version.schema.openAPIV3Schema.properties.spec;
  assert.deepEqual(spec.required, ['namespaceSelector', 'reason']);
  assert.equal(spec.properties.start.format, 'date-time');
  assert.equal(spec.properties.end.format, 'date-time');
  assert.match(spec['x-kubernetes-validations'][0].rule, /self.end > self.start/);
});
