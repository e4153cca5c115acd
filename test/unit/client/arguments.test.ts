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
    ['test/podinfo', '--temporal-namespace', 'prod', '--address', 'temporal:7233', '-o', 'json'],
    {},
    defaults,
  );
  assert.deepEqual(parsed.globals, {
    output: 'json',
    address: 'temporal:7233',
    temporalNamespace: 'prod',
    uiUrl: 'http://127.0.0.1:8233',
    kubeconfig: '/tmp/kubeconfig.yaml',
    allNamespaces: false,
  });
  assert.deepEqual(parsed.positionals, ['test/podinfo']);
  assert.equal(parseCommand([], {}, defaults).globals.output, 'text');
});

test("kubectl's flags: -n/--namespace is Kubernetes's, -A, --context, --kubeconfig; --canary-namespace still works", () => {
  const parsed = parseCommand(
    ['podinfo', '-n', 'test', '--context', 'kind-dev', '--kubeconfig', '/k/a:/k/b'],
    {},
    defaults,
  );
  assert.equal(parsed.globals.namespace, 'test');
  assert.equal(parsed.globals.context, 'kind-dev');
  assert.equal(parsed.globals.kubeconfig, '/k/a:/k/b');
  assert.equal(parsed.globals.temporalNamespace, 'default');
  assert.equal(parseCommand(['--namespace=prod'], {}, defaults).globals.namespace, 'prod');
  assert.equal(parseCommand(['--canary-namespace', 'old'], {}, defaults).globals.namespace, 'old');
  assert.equal(parseCommand(['-A'], {}, defaults).globals.allNamespaces, true);
  assert.equal(parseCommand(['--all-namespaces'], {}, defaults).globals.allNamespaces, true);
  assert.equal(parseCommand(['--temporal-address', 't:1'], {}, defaults).globals.address, 't:1');
  assert.equal(
    exitCodeOf(() => parseCommand(['-A', '-n', 'test'], {}, defaults)),
    64,
  );
  assert.equal(
    exitCodeOf(() => parseCommand(['-n', ''], {}, defaults)),
    64,
  );
});

test('an unknown flag is one sentence that suggests the nearest one', () => {
  try {
    parseCommand(['--namspace', 'test'], {}, defaults);
    assert.fail('parsed');
  } catch (error) {
    assert.ok(error instanceof CliError);
    assert.equal(error.exitCode, 64);
    assert.match(error.message, /^unknown option '--namspace' \(did you mean --namespace\?\); /);
    assert.doesNotMatch(error.message, /\n/);
  }
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
  // NAME alone is in the context's namespace, as kubectl; -n wins over it.
  assert.deepEqual(parseCanaryRef(['podinfo'], undefined, 'team'), { namespace: 'team', name: 'podinfo' });
  assert.deepEqual(parseCanaryRef(['podinfo'], 'test', 'team'), { namespace: 'test', name: 'podinfo' });
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
