// What the CLI makes of the API server's answer to a RolloutAction: one line naming the rule and who
// may act, and the --wait flag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRefusal } from '../../../client/rollout-actions.ts';
import { parseWait } from '../../../client/commands/rollout-action.ts';
import { CliError } from '../../../client/commands/context.ts';

const input = { namespace: 'apps', canary: 'podinfo', action: 'approve' as const, user: 'bob' };

test("an admission refusal keeps the policy's rule, without the API server's preamble", () => {
  const refusal = createRefusal(
    403,
    `rolloutactions.cutover.dev "podinfo-approve-x" is forbidden: ValidatingAdmissionPolicy 'cutover-rollout-actions' with binding 'cutover-rollout-actions' denied request: rule RBAC: bob may not approve canary apps/podinfo: it needs the verb approve on canaries.cutover.dev, which ClusterRole cutover-approver grants`,
    input,
  );
  assert.equal(refusal.kind, 'admission');
  assert.equal(
    refusal.message,
    'refused by the admission policy cutover-rollout-actions: rule RBAC: bob may not approve canary apps/podinfo: it needs the verb approve on canaries.cutover.dev, which ClusterRole cutover-approver grants',
  );
});

test('RBAC refusing the create names the role to bind; a missing CRD or namespace is said as such', () => {
  const rbac = createRefusal(403, 'User "bob" cannot create resource "rolloutactions"', input);
  assert.equal(rbac.kind, 'rbac');
  assert.match(
    rbac.message,
    /^bob may not create RolloutActions in apps: approve needs ClusterRole cutover-approver bound there/,
  );
  assert.equal(
    createRefusal(404, 'the server could not find the requested resource', input).kind,
    'not-served',
  );
  const namespace = createRefusal(404, 'namespaces "apps" not found', input);
  assert.equal(namespace.kind, 'no-namespace');
  assert.match(namespace.message, /canary apps\/podinfo not found: namespace apps does not exist/);
});

test('--wait: a Go duration, 30s by default, 0 for not waiting', () => {
  assert.equal(parseWait(undefined), 30_000);
  assert.equal(parseWait('2m'), 120_000);
  assert.equal(parseWait('0'), 0);
  assert.throws(() => parseWait('soon'), CliError);
  assert.throws(() => parseWait('-1s'), /must not be negative/);
});
