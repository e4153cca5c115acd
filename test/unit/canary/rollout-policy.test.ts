import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { validateCanary, type Problem, type ValidCanary } from '../../../canary/validate.ts';
import {
  policySelects,
  promotionStrategies,
  rolloutPolicyDefaults,
  rolloutPolicyGroup,
  rolloutPolicyPlural,
  rolloutPolicyVersion,
  selectorMatches,
  validateRolloutPolicy,
  type LabelSelector,
} from '../../../canary/rollout-policy.ts';

const tutorialYaml = readFileSync(new URL('./fixtures/podinfo-bluegreen.yaml', import.meta.url), 'utf8');

/** Flagger's tutorial Canary, validated: interval 1m, threshold 2, two builtin metrics. */
function tutorialCanary(): ValidCanary {
  const result = validateCanary(parse(tutorialYaml));
  assert.ok(result.ok);
  return result.canary;
}

function policy(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'cutover.dev/v1alpha1',
    kind: 'RolloutPolicy',
    metadata: { name: 'switch-all', namespace: 'test' },
    spec,
  };
}

function problemAt(raw: unknown, path: string, options = {}): Problem {
  const result = validateRolloutPolicy(raw, tutorialCanary(), options);
  assert.equal(result.ok, false, 'expected problems');
  const problems = result.ok ? [] : result.problems;
  const found = problems.find((p) => p.path === path);
  assert.ok(found, `no problem at ${path}; got ${JSON.stringify(problems)}`);
  assert.ok(found.message.includes(path), 'the message names the field');
  assert.match(found.fix, /^[A-Z].*\.$/, 'the fix is a sentence');
  return found;
}

test('a policy without a strategy is Flagger\u2019s copy, and {} selects every Canary', () => {
  const result = validateRolloutPolicy(policy({ selector: {} }), tutorialCanary());
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.deepEqual(result.policy, { name: 'switch-all', strategy: 'copy' });
  assert.deepEqual(result.warnings, []);
  assert.equal(selectorMatches({}, { app: 'podinfo' }), true);
  assert.equal(selectorMatches({}, {}), true);
});

test('switch mode defaults its post-promotion analysis from the Canary and keeps blue warm 10m', () => {
  const canary = tutorialCanary();
  const result = validateRolloutPolicy(policy({ selector: {}, strategy: 'switch' }), canary);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.deepEqual(result.policy, {
    name: 'switch-all',
    strategy: 'switch',
    switch: {
      keepWarmMs: 600_000,
      analysis: { intervalMs: 60_000, threshold: 2, metrics: canary.analysis.metrics },
    },
  });
});

test('switch mode takes its own interval, threshold and metrics, resolved like a Canary\u2019s', () => {
  const result = validateRolloutPolicy(
    policy({
      selector: { matchLabels: { app: 'podinfo' } },
      strategy: 'switch',
      switch: {
        keepWarm: '1h',
        analysis: {
          interval: '30s',
          threshold: 3,
          metrics: [
            { name: 'request-duration', thresholdRange: { max: 250 }, interval: '1m' },
            { name: 'errors', templateRef: { name: 'error-rate' }, thresholdRange: { max: 1 } },
          ],
        },
      },
    }),
    tutorialCanary(),
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const settings = result.policy.switch;
  assert.equal(settings?.keepWarmMs, 3_600_000);
  assert.equal(settings?.analysis.intervalMs, 30_000);
  assert.equal(settings?.analysis.threshold, 3);
  assert.deepEqual(
    settings?.analysis.metrics.map((m) => [m.name, m.source, m.intervalMs, m.thresholdRange]),
    [
      ['request-duration', 'builtin', 60_000, { max: 250 }],
      ['errors', 'template', 60_000, { max: 1 }],
    ],
  );
  const template = settings?.analysis.metrics[1];
  assert.ok(template?.source === 'template');
  assert.deepEqual(template.templateRef, { name: 'error-rate', namespace: 'test' }, "the Canary's namespace");
});

test('an empty metrics list means a keep-warm window without checks, whatever its length', () => {
  const result = validateRolloutPolicy(
    policy({ selector: {}, strategy: 'switch', switch: { keepWarm: '5s', analysis: { metrics: [] } } }),
    tutorialCanary(),
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.deepEqual(result.policy.switch?.analysis.metrics, []);
  assert.equal(result.policy.switch?.keepWarmMs, 5_000);
});

test('a keep-warm that is not a Go duration names the field and an example', () => {
  const problem = problemAt(
    policy({ selector: {}, strategy: 'switch', switch: { keepWarm: '10 minutes' } }),
    'spec.switch.keepWarm',
  );
  assert.match(problem.message, /not a duration/);
  assert.match(problem.fix, /"10m"/);
  assert.match(
    problemAt(
      policy({ selector: {}, strategy: 'switch', switch: { keepWarm: '0s' } }),
      'spec.switch.keepWarm',
    ).message,
    /longer than zero/,
  );
});

test('an unknown strategy lists the two there are', () => {
  const problem = problemAt(policy({ selector: {}, strategy: 'blue-green' }), 'spec.strategy');
  assert.match(problem.message, /"blue-green"/);
  assert.match(problem.fix, /copy, switch/);
});

test('a missing selector says how to select some Canaries or all of them', () => {
  const problem = problemAt(policy({ strategy: 'switch' }), 'spec.selector');
  assert.match(problem.fix, /matchLabels/);
  assert.match(problem.fix, /selector: \{\}/);
});

test('selector expressions are checked as Kubernetes checks them', () => {
  const bad = policy({
    selector: {
      matchExpressions: [
        { key: 'tier', operator: 'in', values: ['web'] },
        { key: 'tier', operator: 'In' },
        { key: 'tier', operator: 'Exists', values: ['web'] },
      ],
    },
  });
  assert.match(
    problemAt(bad, 'spec.selector.matchExpressions[0].operator').fix,
    /In, NotIn, Exists, DoesNotExist/,
  );
  assert.match(problemAt(bad, 'spec.selector.matchExpressions[1].values').message, /at least one value/);
  assert.match(problemAt(bad, 'spec.selector.matchExpressions[2].values').fix, /Remove values/);
  assert.match(
    problemAt(policy({ selector: { matchLabels: { app: 3 } } }), 'spec.selector.matchLabels.app').fix,
    /text/,
  );
});

test('post-promotion metrics get the Canary\u2019s own sentences, at the policy\u2019s path', () => {
  const raw = policy({
    selector: {},
    strategy: 'switch',
    switch: { analysis: { metrics: [{ name: 'latency', thresholdRange: { max: 1 } }] } },
  });
  const problem = problemAt(raw, 'spec.switch.analysis.metrics[0].name');
  assert.match(problem.message, /not a builtin metric/);
  assert.match(
    problemAt(
      policy({
        selector: {},
        strategy: 'switch',
        switch: { analysis: { metrics: [{ name: 'request-duration' }] } },
      }),
      'spec.switch.analysis.metrics[0].thresholdRange',
    ).fix,
    /max: 500/,
  );
});

test('the post-promotion interval has the Canary\u2019s floor, and the threshold must be a whole number', () => {
  const short = policy({ selector: {}, strategy: 'switch', switch: { analysis: { interval: '1s' } } });
  assert.match(problemAt(short, 'spec.switch.analysis.interval').message, /shorter than the minimum of 10s/);
  const ok = validateRolloutPolicy(short, tutorialCanary(), { minInterval: '100ms' });
  assert.ok(ok.ok, 'tests lower the floor as for Canaries');
  const zero = policy({ selector: {}, strategy: 'switch', switch: { analysis: { threshold: 0 } } });
  assert.match(problemAt(zero, 'spec.switch.analysis.threshold').message, /at least 1/);
});

test('a window too short for one check is a problem; one too short to reach the threshold is a warning', () => {
  const tooShort = policy({ selector: {}, strategy: 'switch', switch: { keepWarm: '30s' } });
  const problem = problemAt(tooShort, 'spec.switch.keepWarm');
  assert.match(problem.message, /1m \(the Canary\u2019s analysis.interval\)/);
  assert.match(problem.fix, /2m or more/);

  const unreachable = validateRolloutPolicy(
    policy({
      selector: {},
      strategy: 'switch',
      switch: { keepWarm: '1m', analysis: { threshold: 3, interval: '30s' } },
    }),
    tutorialCanary(),
  );
  assert.ok(unreachable.ok);
  assert.deepEqual(
    unreachable.warnings.map((w) => w.path),
    ['spec.switch.analysis.threshold'],
  );
  assert.match(unreachable.warnings[0]?.message ?? '', /only 2 checks fit/);
});

test('switch settings on a copy policy are a warning, not silently dropped', () => {
  const result = validateRolloutPolicy(
    policy({ selector: {}, strategy: 'copy', switch: { keepWarm: '5m' } }),
    tutorialCanary(),
  );
  assert.ok(result.ok);
  assert.deepEqual(result.policy, { name: 'switch-all', strategy: 'copy' });
  assert.deepEqual(
    result.warnings.map((w) => w.path),
    ['spec.switch'],
  );
});

test('what is not a RolloutPolicy is said so', () => {
  for (const raw of [null, 'switch', []]) {
    const result = validateRolloutPolicy(raw, tutorialCanary());
    assert.equal(result.ok, false);
    assert.match(
      result.ok ? '' : (result.problems[0]?.message ?? ''),
      /The RolloutPolicy is .* not an object/,
    );
  }
  assert.match(problemAt({ ...policy({ selector: {} }), kind: 'Canary' }, 'kind').fix, /RolloutPolicy/);
  assert.match(
    problemAt({ ...policy({ selector: {} }), apiVersion: 'flagger.app/v1beta1' }, 'apiVersion').fix,
    /cutover.dev\/v1alpha1/,
  );
});

test('label selectors match as in Kubernetes: every label and every expression must hold', () => {
  const labels = { app: 'podinfo', tier: 'web' };
  const cases: [LabelSelector, boolean][] = [
    [{ matchLabels: { app: 'podinfo' } }, true],
    [{ matchLabels: { app: 'podinfo', tier: 'db' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['web'] }] }, true],
    [{ matchExpressions: [{ key: 'team', operator: 'In', values: [''] }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      {
        matchLabels: { app: 'podinfo' },
        matchExpressions: [{ key: 'cutover.dev/switch', operator: 'DoesNotExist' }],
      },
      true,
    ],
  ];
  for (const [selector, expected] of cases) {
    assert.equal(selectorMatches(selector, labels), expected, JSON.stringify(selector));
  }
});

test('a policy whose selector cannot be read selects nothing and says why', () => {
  assert.deepEqual(
    policySelects(policy({ selector: { matchLabels: { app: 'podinfo' } } }), { app: 'podinfo' }),
    {
      selects: true,
      problems: [],
    },
  );
  assert.equal(
    policySelects(policy({ selector: { matchLabels: { app: 'other' } } }), { app: 'podinfo' }).selects,
    false,
  );
  const broken = policySelects(
    policy({ selector: { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['podinfo'] }] } }),
    { app: 'podinfo' },
  );
  assert.equal(broken.selects, false);
  assert.deepEqual(
    broken.problems.map((p) => p.path),
    ['spec.selector.matchExpressions[0].operator'],
  );
  const mistyped = policySelects(policy({ selector: { matchLabels: ['app'] } }), { app: 'podinfo' });
  assert.deepEqual(
    mistyped.problems.map((p) => p.path),
    ['spec.selector.matchLabels'],
  );
  assert.equal(policySelects(policy({ strategy: 'switch' }), {}).problems[0]?.path, 'spec.selector');
});

test('the CRD serves RolloutPolicy as cutover.dev/v1alpha1 with the documented columns, defaults and enums', () => {
  const crd = parse(
    readFileSync(new URL('../../../deploy/crds/rolloutpolicies.cutover.dev.yaml', import.meta.url), 'utf8'),
  );
  assert.equal(crd.metadata.name, `${rolloutPolicyPlural}.${rolloutPolicyGroup}`);
  assert.equal(crd.spec.group, rolloutPolicyGroup);
  assert.equal(crd.spec.scope, 'Namespaced');
  assert.deepEqual(crd.spec.names.shortNames, ['rp']);
  assert.deepEqual(crd.spec.names.categories, ['all']);
  const [version] = crd.spec.versions;
  assert.equal(version.name, rolloutPolicyVersion);
  assert.deepEqual(version.subresources, { status: {} });
  assert.deepEqual(
    version.additionalPrinterColumns.map((c: { name: string }) => c.name),
    ['Strategy', 'Keep-Warm', 'Ready', 'Age'],
  );
  const spec = version.schema.openAPIV3Schema.properties.spec;
  assert.deepEqual(spec.required, ['selector']);
  assert.deepEqual(spec.properties.strategy.enum, [...promotionStrategies]);
  assert.equal(spec.properties.strategy.default, rolloutPolicyDefaults.strategy);
  const keepWarm = spec.properties.switch.properties.keepWarm;
  assert.equal(keepWarm.default, rolloutPolicyDefaults.keepWarm);
  // The CRD's duration pattern and the Go parser agree on what is a (positive) duration.
  const pattern = new RegExp(keepWarm.pattern);
  for (const text of ['10m', '1h30m', '90s', '1.5h', '500ms', '.5s']) assert.ok(pattern.test(text), text);
  for (const text of ['10', '10 minutes', '-1m', '1d', '']) assert.ok(!pattern.test(text), text);
  const status = version.schema.openAPIV3Schema.properties.status;
  assert.ok(status.properties.observedGeneration);
  assert.deepEqual(status.properties.conditions['x-kubernetes-list-map-keys'], ['type']);
});

// ---- change control: spec.approvals, spec.windows, spec.analysis.inconclusive ----

const changeControl = {
  approvals: {
    required: 2,
    from: { users: ['alice', 'bob', 'carol'], groups: ['release-managers'] },
    validFor: '24h',
  },
  windows: {
    timeZone: 'Europe/Berlin',
    allow: [{ name: 'office-hours', schedule: '0 9 * * 1-5', duration: '8h' }],
    deny: [{ name: 'friday-afternoon', schedule: 'FREQ=WEEKLY;BYDAY=FR;BYHOUR=14', duration: '66h' }],
  },
  analysis: { inconclusive: { action: 'pause', pauseAfter: 3 } },
};

test('approvals, windows and the inconclusive action resolve on a copy policy and on a switch policy', () => {
  const resolvedControl = {
    approvals: {
      required: 2,
      users: ['alice', 'bob', 'carol'],
      groups: ['release-managers'],
      validForMs: 86_400_000,
      requireVerified: true,
    },
    windows: {
      timeZone: 'Europe/Berlin',
      allow: [{ name: 'office-hours', schedule: '0 9 * * 1-5', durationMs: 8 * 3_600_000 }],
      deny: [
        { name: 'friday-afternoon', schedule: 'FREQ=WEEKLY;BYDAY=FR;BYHOUR=14', durationMs: 66 * 3_600_000 },
      ],
    },
    inconclusive: { action: 'pause', pauseAfter: 3 },
  };
  const copy = validateRolloutPolicy(policy({ selector: {}, ...changeControl }), tutorialCanary());
  assert.ok(copy.ok, JSON.stringify(!copy.ok && copy.problems));
  assert.deepEqual(copy.policy, { name: 'switch-all', strategy: 'copy', ...resolvedControl });
  assert.deepEqual(copy.warnings, []);
  const switched = validateRolloutPolicy(
    policy({ selector: {}, strategy: 'switch', ...changeControl }),
    tutorialCanary(),
  );
  assert.ok(switched.ok, JSON.stringify(!switched.ok && switched.problems));
  assert.deepEqual(
    {
      approvals: switched.policy.approvals,
      windows: switched.policy.windows,
      inconclusive: switched.policy.inconclusive,
    },
    resolvedControl,
  );
  assert.equal(switched.policy.switch?.keepWarmMs, 600_000);
});

test('defaults: UTC, verified approvals only, unnamed windows named by their place, pause after 3', () => {
  const result = validateRolloutPolicy(
    policy({
      selector: {},
      approvals: { required: 1 },
      windows: { deny: [{ schedule: '0 0 24 12 *', duration: '48h' }] },
      analysis: { inconclusive: { action: 'pause' } },
    }),
    tutorialCanary(),
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.deepEqual(result.policy.approvals, { required: 1, users: [], groups: [], requireVerified: true });
  assert.deepEqual(result.policy.windows, {
    timeZone: 'UTC',
    allow: [],
    deny: [{ name: 'spec.windows.deny[0]', schedule: '0 0 24 12 *', durationMs: 48 * 3_600_000 }],
  });
  assert.deepEqual(result.policy.inconclusive, { action: 'pause', pauseAfter: 3 });
  const skip = validateRolloutPolicy(
    policy({ selector: {}, analysis: { inconclusive: {} } }),
    tutorialCanary(),
  );
  assert.ok(skip.ok);
  assert.deepEqual(skip.policy.inconclusive, { action: 'fail', pauseAfter: 3 }, 'fail, as Flagger');
});

test('approvals that can never be satisfied, or are malformed, name the field and the fix', () => {
  const zero = problemAt(policy({ selector: {}, approvals: { required: 0 } }), 'spec.approvals.required');
  assert.match(zero.message, /at least 1/);
  assert.match(zero.fix, /remove spec.approvals/);
  assert.match(
    problemAt(policy({ selector: {}, approvals: { required: 1.5 } }), 'spec.approvals.required').message,
    /whole number/,
  );
  const tooMany = problemAt(
    policy({ selector: {}, approvals: { required: 3, from: { users: ['alice', 'bob'] } } }),
    'spec.approvals.required',
  );
  assert.match(tooMany.message, /names only 2 users and no groups/);
  assert.match(tooMany.fix, /Lower required to 2 or less/);
  const withGroups = validateRolloutPolicy(
    policy({ selector: {}, approvals: { required: 3, from: { users: ['alice'], groups: ['sre'] } } }),
    tutorialCanary(),
  );
  assert.ok(withGroups.ok, 'a group may hold more approvers');
  assert.match(
    problemAt(policy({ selector: {}, approvals: { required: 1, validFor: '1d' } }), 'spec.approvals.validFor')
      .message,
    /not a duration/,
  );
  assert.match(
    problemAt(policy({ selector: {}, approvals: { required: 1, validFor: '0s' } }), 'spec.approvals.validFor')
      .message,
    /longer than zero/,
  );
  assert.match(
    problemAt(
      policy({ selector: {}, approvals: { required: 1, from: { users: [''] } } }),
      'spec.approvals.from.users[0]',
    ).fix,
    /Name the user/,
  );
  assert.match(
    problemAt(policy({ selector: {}, approvals: {} }), 'spec.approvals.required').message,
    /missing/,
  );
});

test('windows: an unknown time zone, bad cron and RRULE schedules and durations each name the field', () => {
  const zone = problemAt(
    policy({
      selector: {},
      windows: { timeZone: 'Europe/Berln', allow: [{ schedule: '0 9 * * *', duration: '8h' }] },
    }),
    'spec.windows.timeZone',
  );
  assert.match(zone.message, /"Europe\/Berln"/);
  assert.match(zone.fix, /Europe\/Berlin/);
  const schedules: [string, RegExp][] = [
    ['0 9 * *', /has 4 fields, but a cron schedule has 5/],
    ['0 0 9 * * *', /has 6 fields/],
    ['0 25 * * *', /hour/],
    ['FREQ=FORTNIGHTLY', /FREQ=FORTNIGHTLY is not a frequency/],
    ['RRULE:BYDAY=MO', /no FREQ/],
    ['FREQ=WEEKLY;INTERVAL=2', /INTERVAL=2.*no DTSTART/],
    ['FREQ=WEEKLY;BYDAY=XX', /not an RRULE/],
    ['DTSTART:2026-01-05 FREQ=WEEKLY', /not a DTSTART/],
    ['', /empty/],
  ];
  for (const [schedule, reason] of schedules) {
    const problem = problemAt(
      policy({ selector: {}, windows: { allow: [{ name: 'w', schedule, duration: '1h' }] } }),
      'spec.windows.allow[0].schedule',
    );
    assert.match(problem.message, reason, schedule);
    assert.match(problem.fix, /cron expression .* or an RRULE/);
  }
  const zeroAllow = problemAt(
    policy({ selector: {}, windows: { allow: [{ schedule: '0 9 * * *', duration: '0s' }] } }),
    'spec.windows.allow[0].duration',
  );
  assert.match(zeroAllow.message, /never opens/);
  assert.match(
    problemAt(
      policy({ selector: {}, windows: { deny: [{ schedule: '0 9 * * *', duration: '0' }] } }),
      'spec.windows.deny[0].duration',
    ).message,
    /denies nothing/,
  );
  assert.match(
    problemAt(
      policy({ selector: {}, windows: { deny: [{ schedule: '0 9 * * *', duration: '2d' }] } }),
      'spec.windows.deny[0].duration',
    ).message,
    /"d".*24h/,
  );
  assert.match(
    problemAt(
      policy({
        selector: {},
        windows: {
          allow: [{ name: 'w', schedule: '0 9 * * *', duration: '1h' }],
          deny: [{ name: 'w', schedule: '0 9 * * *', duration: '1h' }],
        },
      }),
      'spec.windows.deny[0].name',
    ).message,
    /spec.windows.allow\[0\] too/,
  );
  const empty = validateRolloutPolicy(policy({ selector: {}, windows: {} }), tutorialCanary());
  assert.ok(empty.ok);
  assert.deepEqual(
    empty.warnings.map((w) => w.path),
    ['spec.windows'],
  );
});

test('inconclusive: the action is one of fail, skip, pause, and pauseAfter a whole number used only by pause', () => {
  const action = problemAt(
    policy({ selector: {}, analysis: { inconclusive: { action: 'retry' } } }),
    'spec.analysis.inconclusive.action',
  );
  assert.match(action.fix, /fail, skip, pause/);
  assert.match(
    problemAt(
      policy({ selector: {}, analysis: { inconclusive: { action: 'pause', pauseAfter: 0 } } }),
      'spec.analysis.inconclusive.pauseAfter',
    ).message,
    /at least 1/,
  );
  const ignored = validateRolloutPolicy(
    policy({ selector: {}, analysis: { inconclusive: { action: 'skip', pauseAfter: 2 } } }),
    tutorialCanary(),
  );
  assert.ok(ignored.ok);
  assert.deepEqual(ignored.policy.inconclusive, { action: 'skip', pauseAfter: 2 });
  assert.deepEqual(
    ignored.warnings.map((w) => w.path),
    ['spec.analysis.inconclusive.pauseAfter'],
  );
});
