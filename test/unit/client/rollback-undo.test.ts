import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseUndoTarget,
  promotedRevisionName,
  readPromotedRevisions,
  rolloutAttemptRevision,
  templateReplacePatch,
  undoAnnotations,
  type PromotedRevision,
} from '../../../canary/promoted-revision.ts';
import { parseCommand } from '../../../client/commands/arguments.ts';
import { CliError, ExitCode, type CommandContext } from '../../../client/commands/context.ts';
import { rollbackCommand } from '../../../client/commands/rollback.ts';
import { renderUndo, undoCommand, undoMessage } from '../../../client/commands/undo.ts';
import { commands } from '../../../client/cli.ts';

const canaryUid = 'uid-1';
const ref = { namespace: 'test', name: 'podinfo' };

function template(image: string): Record<string, unknown> {
  return {
    metadata: { labels: { app: 'podinfo' } },
    spec: { containers: [{ name: 'podinfo', image }] },
  };
}

/** A ControllerRevision as the promotion keeps it. */
function kept(revision: string, number: number, image: string, owner = canaryUid): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: promotedRevisionName('podinfo', revision),
      labels: { 'cutover.dev/canary': 'podinfo' },
      annotations: { 'cutover.dev/revision': revision },
      ownerReferences: [{ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'podinfo', uid: owner }],
      creationTimestamp: '2026-12-01T10:00:00Z',
    },
    revision: number,
    data: { template: template(image) },
  };
}

function revisions(): PromotedRevision[] {
  return readPromotedRevisions(
    [kept('aaa', 1, 'podinfo:6.9.0'), kept('ccc', 3, 'podinfo:6.9.2'), kept('bbb', 2, 'podinfo:6.9.1')],
    canaryUid,
  ).revisions;
}

test('kept revisions are read newest first; another Canary\u2019s and broken ones are left out', () => {
  const { revisions: read, ignored } = readPromotedRevisions(
    [
      kept('aaa', 1, 'podinfo:6.9.0'),
      kept('ccc', 3, 'podinfo:6.9.2'),
      kept('old', 7, 'podinfo:5.0.0', 'uid-of-a-deleted-canary'),
      { ...kept('nodata', 4, 'x'), data: {} },
    ],
    canaryUid,
  );
  assert.deepEqual(
    read.map((r) => [r.name, r.revision, r.number]),
    [
      ['podinfo-ccc', 'ccc', 3],
      ['podinfo-aaa', 'aaa', 1],
    ],
  );
  assert.deepEqual(read[0]?.template, template('podinfo:6.9.2'));
  assert.equal(read[0]?.createdAt, '2026-12-01T10:00:00Z');
  assert.deepEqual(ignored, ['podinfo-old', 'podinfo-nodata']);
});

test('undo goes back to the revision promoted before the current one', () => {
  const choice = chooseUndoTarget(revisions(), ref, 'ccc');
  assert.ok(choice.ok);
  assert.equal(choice.target.revision, 'bbb');
  assert.equal(choice.current, 'ccc');
  assert.equal(choice.isCurrent, false);

  // After an undo to bbb is promoted, its counter is the highest: a second undo goes to ccc.
  const afterUndo = readPromotedRevisions(
    [kept('aaa', 1, 'a'), kept('ccc', 3, 'c'), kept('bbb', 4, 'b')],
    canaryUid,
  ).revisions;
  const again = chooseUndoTarget(afterUndo, ref, 'bbb');
  assert.ok(again.ok);
  assert.equal(again.target.revision, 'ccc');
});

test('without the Canary\u2019s promoted revision, the newest kept one counts as current', () => {
  const choice = chooseUndoTarget(revisions(), ref, undefined);
  assert.ok(choice.ok);
  assert.equal(choice.target.revision, 'bbb');
  assert.equal(choice.current, 'ccc');
});

test('--to-revision takes a promotion number, a revision hash or the object\u2019s name', () => {
  for (const to of ['1', 'aaa', 'podinfo-aaa', ' 1 ']) {
    const choice = chooseUndoTarget(revisions(), ref, 'ccc', to);
    assert.ok(choice.ok, to);
    assert.equal(choice.target.revision, 'aaa', to);
  }
  const current = chooseUndoTarget(revisions(), ref, 'ccc', '3');
  assert.ok(current.ok);
  assert.equal(current.isCurrent, true, 'the promoted one: the target is set back to match the primary');
});

test('what cannot be undone says what is kept', () => {
  const missing = chooseUndoTarget(revisions(), ref, 'ccc', '9');
  assert.equal(missing.ok, false);
  assert.match(
    missing.ok ? '' : missing.message,
    /revision 9 of test\/podinfo is not kept; kept: 3 \(ccc, promoted now\), 2 \(bbb\), 1 \(aaa\)/,
  );

  const none = chooseUndoTarget([], ref, 'ccc');
  assert.match(
    none.ok ? '' : none.message,
    /keeps no promoted revision of test\/podinfo \(ControllerRevisions labelled cutover.dev\/canary=podinfo\)/,
  );

  const only = chooseUndoTarget(
    readPromotedRevisions([kept('ccc', 1, 'c')], canaryUid).revisions,
    ref,
    'ccc',
  );
  assert.match(only.ok ? '' : only.message, /only one promoted revision kept \(ccc\)/);
});

test('the template is replaced whole, and the Canary asks for a fresh rollout of that revision', () => {
  assert.deepEqual(templateReplacePatch(template('podinfo:6.9.1')), [
    { op: 'replace', path: '/spec/template', value: template('podinfo:6.9.1') },
  ]);
  const withSkip = undoAnnotations('bbb', 'mz1abc', true);
  assert.deepEqual(withSkip, {
    'cutover.dev/rollout-attempt': 'bbb.mz1abc',
    'cutover.dev/skip-analysis-revision': 'bbb',
  });
  assert.equal(rolloutAttemptRevision(withSkip['cutover.dev/rollout-attempt'] ?? undefined), 'bbb');
  assert.equal(rolloutAttemptRevision('no-dot'), undefined);
  assert.equal(rolloutAttemptRevision(undefined), undefined);
  assert.deepEqual(
    undoAnnotations('bbb', 'mz1abd', false),
    { 'cutover.dev/rollout-attempt': 'bbb.mz1abd', 'cutover.dev/skip-analysis-revision': null },
    'a skip left by an earlier undo is removed',
  );
});

test('the text output says what changed, what happens next and how to follow it', () => {
  const [target] = revisions().filter((r) => r.revision === 'bbb');
  assert.ok(target);
  const how = { by: 'alice', reason: 'p99 doubled', skipAnalysis: true, isCurrent: false };
  assert.equal(
    renderUndo(ref, 'podinfo', target, 'ccc', how),
    [
      "Undo of test/podinfo: Deployment podinfo's pod template set to revision 2 (bbb) from podinfo-bbb",
      '  by alice: p99 doubled',
      '  a new rollout of bbb (replacing ccc) starts and promotes without analysis',
      '  follow it: cutover watch test/podinfo',
      '',
    ].join('\n'),
  );
  assert.match(
    renderUndo(ref, 'podinfo', target, 'bbb', { ...how, isCurrent: true }),
    /no rollout is needed/,
  );
  assert.equal(
    undoMessage(target, 'alice', 'p99 doubled', true, false),
    'Undo to revision 2 (bbb) by alice: p99 doubled (a new rollout asked for, analysis skipped).',
  );
});

/** A context whose clients fail the test if used: the command must refuse before any call. */
function offlineContext(): CommandContext {
  const fail = (): never => assert.fail('the command reached out before checking its arguments');
  const sink = { write: () => undefined, isTTY: false };
  return {
    options: {
      output: 'text',
      address: '127.0.0.1:1',
      temporalNamespace: 'default',
      uiUrl: '',
      kubeconfig: '',
      allNamespaces: false,
    },
    stdout: sink,
    stderr: sink,
    temporal: fail,
    kube: fail,
    defaultNamespace: fail,
    warn: () => undefined,
    now: () => new Date(),
  };
}

const defaults = { temporalAddress: '', temporalNamespace: '', temporalUiUrl: '', kubeconfig: '' };

test('undo needs a reason and a non-empty --to-revision, and says so before calling anything', async () => {
  const run = (...args: string[]) =>
    undoCommand.run(offlineContext(), parseCommand(args, undoCommand.options, defaults));
  await assert.rejects(
    run('test/podinfo'),
    (e: unknown) => e instanceof CliError && e.exitCode === ExitCode.usage && /--reason TEXT/.test(e.message),
  );
  await assert.rejects(
    run('test/podinfo', '--reason', 'x', '--to-revision', ''),
    (e: unknown) => e instanceof CliError && e.exitCode === ExitCode.usage && /--to-revision/.test(e.message),
  );
  await assert.rejects(
    run('--reason', 'x'),
    (e: unknown) => e instanceof CliError && e.exitCode === ExitCode.usage,
  );
  const parsed = parseCommand(
    ['podinfo', '-n', 'test', '--skip-analysis', '--to-revision', '2'],
    undoCommand.options,
    defaults,
  );
  assert.equal(parsed.values['skip-analysis'], true);
  assert.equal(parsed.values['to-revision'], '2');
});

test('rollback needs a reason, and says so before calling anything', async () => {
  for (const args of [['test/podinfo'], ['test/podinfo', '--reason', '  ']]) {
    await assert.rejects(
      rollbackCommand.run(offlineContext(), parseCommand(args, rollbackCommand.options, defaults)),
      (e: unknown) =>
        e instanceof CliError &&
        e.exitCode === ExitCode.usage &&
        /rollback needs --reason TEXT/.test(e.message),
    );
  }
});

test('rollback and undo are listed in the help, and rollback\u2019s help says when to use which', () => {
  const names = commands.map((c) => c.name);
  assert.ok(names.includes('rollback') && names.includes('undo'), names.join(' '));
  assert.ok(names.indexOf('rollback') > names.indexOf('abort'), 'steering commands stay together');
  assert.match(rollbackCommand.usage, /^cutover rollback NAMESPACE\/NAME --reason TEXT/);
  assert.match(rollbackCommand.details ?? '', /strategy: switch/);
  assert.match(rollbackCommand.details ?? '', /cutover abort/);
  assert.match(rollbackCommand.details ?? '', /cutover undo/);
});
