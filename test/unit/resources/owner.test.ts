import assert from 'node:assert/strict';
import { test } from 'node:test';
import { otherCanaryOwner, targetTakenMessage } from '../../../resources/owner.ts';

const ownedBy = (name: string, uid: string) => ({
  ownerReferences: [{ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name, uid }],
});

test('a primary owned by another Canary is that Canary; by this one, or by a re-created namesake, it is not', () => {
  const me = { name: 'second', uid: 'u2' };
  assert.equal(otherCanaryOwner(ownedBy('first', 'u1'), me)?.name, 'first');
  assert.equal(otherCanaryOwner(ownedBy('second', 'u2'), me), undefined);
  assert.equal(otherCanaryOwner(ownedBy('second', 'u-old'), me), undefined, 'deleted and applied again');
  assert.equal(otherCanaryOwner({}, me), undefined);
  assert.equal(otherCanaryOwner(undefined, me), undefined);
  assert.equal(
    otherCanaryOwner(
      { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'u9' }] },
      me,
    ),
    undefined,
    'only a Canary owner counts',
  );
});

test('the refusal names the field, the owning Canary and the fix', () => {
  const message = targetTakenMessage(
    { name: 'second', namespace: 'shop', uid: 'u2' },
    'web',
    'web-primary',
    'first',
  );
  assert.match(message, /^Canary shop\/second cannot run: spec\.targetRef: Deployment shop\/web /);
  assert.match(
    message,
    /already rolled out by Canary shop\/first \(its web-primary belongs to that Canary\)/,
  );
  assert.match(message, /Point spec\.targetRef at another Deployment, or delete one of the two Canaries\.$/);
});
