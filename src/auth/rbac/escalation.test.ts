import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attributes, Authorizer } from '../attributes.ts';
import { bindingAuthorized, escalationAllowed, escalationError, roleEscalationAuthorized } from './escalation.ts';
import { compactRules } from './policy-rule.ts';

const jane = { name: 'jane', groups: ['dev', 'system:authenticated'] };

test("escalation message: Kubernetes' words, missing rules compacted and sorted", () => {
  const held = [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }];
  assert.equal(escalationError(jane, held, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]), undefined);
  assert.equal(escalationError(jane, held, [{ verbs: ['get', 'create', 'delete'], apiGroups: ['', 'apps'], resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'] }]),
    'user "jane" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
    + '{APIGroups:[""], Resources:["pods"], Verbs:["create" "delete"]}\n{APIGroups:["apps"], Resources:["pods"], Verbs:["get" "create" "delete"]}\n{NonResourceURLs:["/metrics"], Verbs:["get"]}');
  assert.deepEqual(compactRules([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }, { verbs: ['list'], apiGroups: [''], resources: ['pods'] }]),
    [{ verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }, { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]);
  assert.equal(escalationAllowed({ name: 'x', groups: ['system:masters'] }), true);
  assert.equal(escalationAllowed(jane), false);
});

test('escalate and bind are asked of the authorizer with the role as the object', async () => {
  const asked: Attributes[] = [];
  const z: Authorizer = { authorize: (a) => { asked.push(a); return a.name === 'ok' ? 'allow' : 'no-opinion'; } };
  assert.equal(await roleEscalationAuthorized(z, jane, 'roles', 'a', 'ok'), true);
  assert.equal(await bindingAuthorized(z, jane, { kind: 'ClusterRole', name: 'admin' }, 'a'), false);
  assert.equal(await bindingAuthorized(z, jane, { kind: 'Secret', name: 'ok' }, 'a'), false, 'not a role: never asked');
  assert.deepEqual(asked.map((a) => `${a.verb} ${a.apiGroup}/${a.resource} ${a.namespace}/${a.name}`), [
    'escalate rbac.authorization.k8s.io/roles a/ok', 'bind rbac.authorization.k8s.io/clusterroles a/admin',
  ]);
});
