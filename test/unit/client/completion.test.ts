// The completion scripts: valid bash, completing commands, a command's flags (the global ones too,
// except for the worker's), and canary names for the commands that take one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { completionScript } from '../../../client/completion.ts';

const words = {
  commands: [
    { name: 'list', flags: [] },
    { name: 'status', flags: [] },
    { name: 'history', flags: ['--rollout', '--limit'] },
    { name: 'worker', flags: ['--temporal-address', '--no-watcher'], globals: false },
  ],
  globalFlags: ['-n', '--namespace', '-A', '--all-namespaces'],
};

function complete(script: string, line: string[]): string[] {
  const program = `${script}\nCOMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; kubectl() { :; }; _cutover; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

test('bash completes commands, then the flags of the command it is completing', () => {
  const script = completionScript('bash', words);
  assert.deepEqual(complete(script, ['cutover', 'hi']), ['history']);
  assert.deepEqual(complete(script, ['cutover', 'history', '--l']), ['--limit']);
  assert.deepEqual(complete(script, ['cutover', 'list', '--all']), ['--all-namespaces']);
  assert.deepEqual(complete(script, ['cutover', 'worker', '--n']), ['--no-watcher']);
  assert.match(script, /complete -F _cutover cutover kubectl-cutover/);
});

test('zsh runs the same function through bashcompinit', () => {
  const script = completionScript('zsh', words);
  assert.match(script, /^#compdef cutover kubectl-cutover\nautoload -U \+X bashcompinit && bashcompinit\n/);
  assert.match(script, /_cutover\(\) \{/);
});
