import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { formatProblems, validateCanary, type Problem } from '../../../canary/validate.ts';

const tutorialYaml = readFileSync(new URL('./fixtures/podinfo-bluegreen.yaml', import.meta.url), 'utf8');

/** A fresh copy of Flagger's blue/green tutorial Canary, to break one field at a time. */
function tutorial(): {
  metadata: Record<string, unknown>;
  spec: Record<string, unknown> & { analysis: Record<string, unknown> };
} {
  return parse(tutorialYaml);
}

function problemsOf(obj: unknown, options = {}): Problem[] {
  const result = validateCanary(obj, options);
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.problems;
}

function problemAt(obj: unknown, path: string, options = {}): Problem {
  const problems = problemsOf(obj, options);
  const found = problems.find((p) => p.path === path);
  assert.ok(found, `no problem at ${path}; got ${JSON.stringify(problems)}`);
  assert.ok(found.message.includes(path), 'the message names the field');
  assert.match(found.fix, /^[A-Z].*\.$/, 'the fix is a sentence');
  return found;
}

test('accepts Flagger\u2019s blue/green tutorial Canary unchanged and resolves it', () => {
  const result = validateCanary(parse(tutorialYaml));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.deepEqual(result.warnings, []);
  const c = result.canary;
  assert.equal(c.name, 'podinfo');
  assert.equal(c.namespace, 'test');
  assert.deepEqual(c.target, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' });
  assert.deepEqual(c.autoscaler, {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    name: 'podinfo',
  });
  assert.deepEqual(c.service, {
    name: 'podinfo',
    port: 9898,
    portName: 'http',
    targetPort: 9898,
    portDiscovery: true,
  });
  assert.equal(c.progressDeadlineSeconds, 60);
  assert.equal(c.analysis.intervalMs, 60_000);
  assert.equal(c.analysis.iterations, 10);
  assert.equal(c.analysis.threshold, 2);
  assert.equal(c.analysis.canaryReadyThreshold, 100);
  assert.deepEqual(
    c.analysis.metrics.map((m) => [m.name, m.source, m.intervalMs, m.thresholdRange]),
    [
      ['request-success-rate', 'builtin', 60_000, { min: 99 }],
      ['request-duration', 'builtin', 30_000, { max: 500 }],
    ],
  );
  assert.deepEqual(
    c.analysis.webhooks.map((w) => [w.name, w.type, w.timeoutMs, w.retries]),
    [
      ['acceptance-test', 'pre-rollout', 30_000, 0],
      ['load-test', 'rollout', 5000, 0],
    ],
  );
  assert.equal(c.analysis.webhooks[1]?.metadata.type, 'cmd');
});

test('fills in Flagger\u2019s defaults', () => {
  const obj = tutorial();
  obj.spec.analysis = {
    iterations: 3,
    webhooks: [{ name: 'gate', type: 'confirm-promotion', url: 'http://gate/' }],
  };
  delete obj.spec.progressDeadlineSeconds;
  const result = validateCanary(obj);
  assert.ok(result.ok);
  assert.equal(result.canary.analysis.intervalMs, 60_000);
  assert.equal(result.canary.analysis.threshold, 1);
  assert.equal(result.canary.progressDeadlineSeconds, 600);
  assert.equal(result.canary.analysis.primaryReadyThreshold, 100);
  assert.deepEqual(result.canary.analysis.webhooks[0], {
    name: 'gate',
    type: 'confirm-promotion',
    url: 'http://gate/',
    timeoutMs: 10_000,
    retries: 0,
    metadata: {},
    disableTLS: false,
    muteAlert: false,
  });
});

test('keeps fields it does not know, so a Flagger user\u2019s YAML round-trips', () => {
  const obj = tutorial();
  obj.spec.service = { port: 9898, gateways: ['public'], trafficPolicy: { tls: { mode: 'DISABLE' } } };
  const result = validateCanary(obj);
  assert.ok(result.ok);
  assert.deepEqual(result.canary.object.spec.service?.gateways, ['public']);
});

test('rejects stepWeight traffic shifting and names the field', () => {
  const obj = tutorial();
  Object.assign(obj.spec.analysis, { stepWeight: 10, maxWeight: 50 });
  const problem = problemAt(obj, 'spec.analysis.stepWeight');
  assert.match(problem.message, /blue\/green/);
  assert.match(problem.fix, /iterations/);
  problemAt(obj, 'spec.analysis.maxWeight');
});

test('rejects stepWeights', () => {
  const obj = tutorial();
  obj.spec.analysis.stepWeights = [1, 5, 10];
  problemAt(obj, 'spec.analysis.stepWeights');
});

test('rejects a provider other than kubernetes, and an empty one', () => {
  const istio = tutorial();
  istio.spec.provider = 'istio';
  assert.match(problemAt(istio, 'spec.provider').message, /"istio"/);
  const none = tutorial();
  delete none.spec.provider;
  assert.match(problemAt(none, 'spec.provider').fix, /provider: kubernetes/);
});

test('rejects a missing targetRef and a DaemonSet target', () => {
  const missing = tutorial();
  delete missing.spec.targetRef;
  problemAt(missing, 'spec.targetRef');
  const daemonSet = tutorial();
  daemonSet.spec.targetRef = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'podinfo' };
  assert.match(problemAt(daemonSet, 'spec.targetRef.kind').message, /DaemonSet/);
});

test('rejects a missing iterations count', () => {
  const obj = tutorial();
  delete obj.spec.analysis.iterations;
  assert.match(problemAt(obj, 'spec.analysis.iterations').message, /is missing/);
  assert.match(problemAt(obj, 'spec.analysis.iterations').fix, /iterations/);
});

test('rejects iterations: 0 as too small, not as missing', () => {
  const obj = tutorial();
  obj.spec.analysis.iterations = 0;
  const problem = problemAt(obj, 'spec.analysis.iterations');
  assert.equal(
    problem.message,
    'spec.analysis.iterations is 0, but it must be a whole number of at least 1.',
  );
  assert.match(problem.fix, /Set iterations to the number of good checks needed/);
});

test('rejects bad durations with the reason', () => {
  const obj = tutorial();
  obj.spec.analysis.interval = '1 minute';
  const metrics = obj.spec.analysis.metrics as { interval: string }[];
  metrics[0]!.interval = '5';
  problemAt(obj, 'spec.analysis.interval');
  assert.match(problemAt(obj, 'spec.analysis.metrics[0].interval').message, /without a unit/);
});

test('rejects an interval under the minimum, which is an option', () => {
  const obj = tutorial();
  obj.spec.analysis.interval = '5s';
  assert.match(problemAt(obj, 'spec.analysis.interval').message, /minimum of 10s/);
  obj.spec.analysis.interval = '200ms';
  const result = validateCanary(obj, { minInterval: '100ms' });
  assert.ok(result.ok);
  assert.equal(result.canary.analysis.intervalMs, 200);
});

test('rejects a threshold under 1', () => {
  const obj = tutorial();
  obj.spec.analysis.threshold = 0;
  problemAt(obj, 'spec.analysis.threshold');
});

test('rejects an unknown webhook type and lists the valid ones', () => {
  const obj = tutorial();
  obj.spec.analysis.webhooks = [{ name: 'x', type: 'pre-promotion', url: 'http://x/' }];
  assert.match(problemAt(obj, 'spec.analysis.webhooks[0].type').fix, /confirm-promotion/);
});

test('rejects an unknown builtin metric without a templateRef, accepts it with one', () => {
  const obj = tutorial();
  obj.spec.analysis.metrics = [{ name: 'error-rate', thresholdRange: { max: 1 } }];
  assert.match(problemAt(obj, 'spec.analysis.metrics[0].name').fix, /templateRef/);
  obj.spec.analysis.metrics = [
    {
      name: 'error-rate',
      templateRef: { name: 'errors' },
      templateVariables: { k: 'v' },
      thresholdRange: { max: 1 },
    },
  ];
  const result = validateCanary(obj);
  assert.ok(result.ok);
  assert.deepEqual(result.canary.analysis.metrics[0], {
    name: 'error-rate',
    interval: '1m',
    intervalMs: 60_000,
    thresholdRange: { max: 1 },
    source: 'template',
    templateRef: { name: 'errors', namespace: 'test' },
    templateVariables: { k: 'v' },
  });
});

test('rejects a metric without thresholdRange, and reads the deprecated threshold as Flagger does', () => {
  const obj = tutorial();
  obj.spec.analysis.metrics = [{ name: 'request-duration' }];
  assert.match(problemAt(obj, 'spec.analysis.metrics[0].thresholdRange').fix, /max: 500/);
  obj.spec.analysis.metrics = [
    { name: 'request-success-rate', threshold: 99 },
    { name: 'request-duration', threshold: 500 },
  ];
  const result = validateCanary(obj);
  assert.ok(result.ok);
  assert.deepEqual(
    result.canary.analysis.metrics.map((m) => m.thresholdRange),
    [{ min: 99 }, { max: 500 }],
  );
  assert.equal(result.warnings.length, 2);
});

test('reports wrong types in words, with the path', () => {
  const obj = tutorial();
  obj.spec.analysis.iterations = '10';
  const problem = problemAt(obj, 'spec.analysis.iterations');
  assert.match(problem.message, /should be a number, but it is the text "10"/);
  assert.match(problem.fix, /without quotes/);
});

test('never throws, whatever it is given', () => {
  for (const input of [undefined, null, 42, 'Canary', [], {}, { spec: null }, { spec: { analysis: [] } }]) {
    const result = validateCanary(input);
    assert.equal(result.ok, false);
  }
});

test('formats problems as one message that fits an event', () => {
  const obj = tutorial();
  obj.spec.provider = 'istio';
  obj.spec.analysis.stepWeight = 10;
  const problems = problemsOf(obj);
  const message = formatProblems(problems);
  assert.match(message, /^2 problems: spec\.provider/);
  assert.ok(message.includes('spec.analysis.stepWeight'));
  const short = formatProblems(problems, 200);
  assert.ok(short.length <= 200);
  assert.match(short, /\(and 1 more\)$/);
});
