import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { readVersions, toolPath } from '../../stack/tools.ts';
import { endpoints } from '../support/cluster.ts';

const run = promisify(execFile);

test(
  'kubectl version reports the real Kubernetes version of client and server',
  { skip: endpoints.external.kubernetes && 'KUBECONFIG points at another cluster' },
  async () => {
    const { stdout, stderr } = await run(
      toolPath('kubectl'),
      ['version', '-o', 'json', '--kubeconfig', endpoints.kubeconfig],
      { timeout: 30_000 },
    );
    const version = JSON.parse(stdout) as {
      clientVersion: { gitVersion: string; major: string; minor: string };
      serverVersion: { gitVersion: string; major: string; minor: string };
    };
    const expected = readVersions().KUBERNETES_VERSION;
    assert.equal(expected, 'v1.34.4');
    assert.equal(version.serverVersion.gitVersion, expected);
    assert.equal(version.clientVersion.gitVersion, expected);
    assert.equal(version.serverVersion.major, '1');
    assert.equal(version.serverVersion.minor, '34');
    assert.doesNotMatch(stderr, /WARNING: version difference/);
  },
);
