import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  callerIdentity,
  parseCanaryRef,
  parseCommand,
  splitCommand,
} from '../../../client/commands/arguments.ts';
import { CliError } from '../../../client/commands/context.ts';

const defaults = {
  temporalAddress: '127.0.0.1:7233',
  temporalNamespace: 'default',
  temporalUiUrl: 'http://127.0.0.1:8233/',
  kubeconfig: '/tmp/kubeconfig.yaml',
};

function exitCodeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof CliError) return error.exitCode;
    throw error;
  }
  return undefined;
}

test('the command is the first word that is not a global flag or its value', () => {
  assert.deepEqual(splitCommand(['--address', 'temporal:7233', 'status', 'test/podinfo']), {
    command: 'status',
    rest: ['--address', 'temporal:7233', 'test/podinfo'],
  });
  assert.deepEqual(splitCommand(['-o', 'json', 'list']), { command: 'list', rest: ['-o', 'json'] });
  assert.deepEqual(splitCommand(['--output=json', 'list', '-n', 'test']), {
    command: 'list',
    rest: ['--output=json', '-n', 'test'],
  });
  assert.deepEqual(splitCommand(['--help']), { command: undefined, rest: ['--help'] });
});

test('global flags override the environment defaults; the UI URL loses its trailing slash', () => {
  const parsed = parseCommand(
    ['test/podinfo', '--namespace', 'prod', '--address', 'temporal:7233', '-o', 'json'],
    {},
    defaults,
  );
  assert.deepEqual(parsed.globals, {
    output: 'json',
    address: 'temporal:7233',
    namespace: 'prod',
    uiUrl: 'http://127.0.0.1:8233',
    kubeconfig: '/tmp/kubeconfig.yaml',
  });
  assert.deepEqual(parsed.positionals, ['test/podinfo']);
  assert.equal(parseCommand([], {}, defaults).globals.output, 'text');
});

test('command flags parse beside global ones; unknown flags and bad --output are usage errors (64)', () => {
  const options = { reason: { type: 'string' }, as: { type: 'string' } } as const;
  const parsed = parseCommand(['a/b', '--reason', 'hotfix', '--as', 'alice'], options, defaults);
  assert.deepEqual({ ...parsed.values }, { reason: 'hotfix', as: 'alice' });
  assert.equal(
    exitCodeOf(() => parseCommand(['--frobnicate'], options, defaults)),
    64,
  );
  assert.equal(
    exitCodeOf(() => parseCommand(['-o', 'yaml'], options, defaults)),
    64,
  );
});

test('a canary is NAMESPACE/NAME, or NAME with -n', () => {
  assert.deepEqual(parseCanaryRef(['test/podinfo']), { namespace: 'test', name: 'podinfo' });
  assert.deepEqual(parseCanaryRef(['podinfo'], 'test'), { namespace: 'test', name: 'podinfo' });
  assert.deepEqual(parseCanaryRef(['test/podinfo'], 'test'), { namespace: 'test', name: 'podinfo' });
  assert.equal(
    exitCodeOf(() => parseCanaryRef([])),
    64,
  );
  assert.equal(
    exitCodeOf(() => parseCanaryRef(['podinfo'])),
    64,
  );
  assert.equal(
    exitCodeOf(() => parseCanaryRef(['a/b/c'])),
    64,
  );
  assert.equal(
    exitCodeOf(() => parseCanaryRef(['a/b', 'c/d'])),
    64,
  );
  assert.equal(
    exitCodeOf(() => parseCanaryRef(['test/podinfo'], 'prod')),
    64,
  );
});

test('the caller is --as, else $CUTOVER_USER, else $USER@host', () => {
  const host = { user: 'root', host: 'build-1' };
  assert.equal(callerIdentity('alice', { CUTOVER_USER: 'bob', USER: 'carol' }, host), 'alice');
  assert.equal(callerIdentity(undefined, { CUTOVER_USER: 'bob', USER: 'carol' }, host), 'bob');
  assert.equal(callerIdentity(undefined, { USER: 'carol' }, host), 'carol@build-1');
  assert.equal(callerIdentity(undefined, {}, host), 'root@build-1');
  assert.equal(
    exitCodeOf(() => callerIdentity('  ', {}, host)),
    64,
  );
});
