import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeCanary, visibilityQuery } from '../../../client/canary-lookup.ts';
import type { WorkflowRun } from '../../../client/canary-lookup.ts';
import { resolveRollout } from '../../../client/commands/history.ts';
import { CliError } from '../../../client/commands/context.ts';

test("a canary's workflows are found by its search attributes", () => {
  const canary = { namespace: 'test', name: 'podinfo' };
  assert.equal(
    visibilityQuery({ canary, running: true, rolloutsOnly: true }),
    "CutoverCanary = 'podinfo' AND CutoverNamespace = 'test' AND WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running'",
  );
  assert.equal(visibilityQuery({ namespace: 'test' }), "CutoverNamespace = 'test'");
  assert.equal(
    visibilityQuery({ namespace: 'test', rolloutsOnly: true, revisions: ['a1', "b'2"] }),
    "CutoverNamespace = 'test' AND WorkflowType = 'rolloutWorkflow' AND CutoverRevision IN ('a1', 'b\\'2')",
  );
  assert.equal(visibilityQuery({}), 'CutoverCanary IS NOT NULL');
  assert.equal(
    visibilityQuery({ canary: { namespace: "it's", name: 'x' } }),
    "CutoverCanary = 'x' AND CutoverNamespace = 'it\\'s'",
  );
});

test('a Canary is summarized from what it has; a malformed status does not hide it', () => {
  assert.deepEqual(
    summarizeCanary({
      metadata: {
        name: 'podinfo',
        namespace: 'test',
        uid: 'u1',
        creationTimestamp: new Date('2025-03-01T00:00:00Z'),
      },
      spec: { targetRef: { name: 'podinfo' }, analysis: { iterations: 10, threshold: 2 } },
      status: { phase: 'Succeeded', iterations: 10, lastAppliedSpec: 'abc' },
    }),
    {
      namespace: 'test',
      name: 'podinfo',
      uid: 'u1',
      createdAt: '2025-03-01T00:00:00.000Z',
      target: 'podinfo',
      iterations: 10,
      threshold: 2,
      status: { phase: 'Succeeded', iterations: 10, lastAppliedSpec: 'abc' },
    },
  );
  const odd = summarizeCanary({ metadata: { name: 'x', namespace: 'y' }, status: { failedChecks: 'many' } });
  assert.deepEqual([odd.threshold, odd.iterations, odd.status], [1, undefined, {}]);
});

test('--rollout takes a workflow id, a revision prefix or "init"', () => {
  const ref = { namespace: 'test', name: 'podinfo' };
  const run = (workflowId: string, kind: WorkflowRun['kind'], revision: string): WorkflowRun => ({
    workflowId,
    runId: 'r',
    kind,
    status: 'COMPLETED',
    startTime: new Date(),
    namespace: 'test',
    name: 'podinfo',
    revision,
  });
  const runs = [
    run('cutover/test/podinfo/rollout/aaaa1111', 'rollout', 'aaaa1111'),
    run('cutover/test/podinfo/rollout/aaaa2222', 'rollout', 'aaaa2222'),
    run('cutover/test/podinfo/init/uid', 'initialize', 'bbbb0000'),
  ];
  assert.equal(resolveRollout(ref, runs, 'aaaa2'), 'cutover/test/podinfo/rollout/aaaa2222');
  assert.equal(resolveRollout(ref, runs, 'init'), 'cutover/test/podinfo/init/uid');
  assert.equal(
    resolveRollout(ref, runs, 'cutover/test/podinfo/rollout/aaaa1111'),
    'cutover/test/podinfo/rollout/aaaa1111',
  );
  const codeOf = (wanted: string) => {
    try {
      resolveRollout(ref, runs, wanted);
    } catch (error) {
      return error instanceof CliError ? error.exitCode : -1;
    }
    return 0;
  };
  assert.equal(codeOf('aaaa'), 64, 'ambiguous');
  assert.equal(codeOf('ffff'), 6, 'no such revision');
  assert.equal(codeOf('cutover/other/podinfo/rollout/aaaa1111'), 6, "another canary's workflow");
});
