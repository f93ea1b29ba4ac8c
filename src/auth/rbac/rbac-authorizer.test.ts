import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attributes, UserInfo } from '../attributes.ts';
import { RbacAuthorizer } from './rbac-authorizer.ts';
import { compactRule, ruleAllows, uncoveredRules, type PolicyRule } from './policy-rule.ts';

const jane: UserInfo = { name: 'jane', groups: ['dev', 'system:authenticated'] };
const req = (o: Partial<Attributes>): Attributes => ({
  user: jane, verb: 'get', isResourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: '', namespace: 'a', name: '', ...o,
});

test('rule matching: verbs, groups, resources, subresources, names, non-resource URLs', () => {
  const pods: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] };
  assert.equal(ruleAllows(req({}), pods), true);
  assert.equal(ruleAllows(req({ verb: 'delete' }), pods), false);
  assert.equal(ruleAllows(req({ apiGroup: 'apps', resource: 'deployments' }), pods), false);
  assert.equal(ruleAllows(req({ subresource: 'log' }), pods), true);
  assert.equal(ruleAllows(req({ subresource: 'exec' }), pods), false, 'pods does not cover pods/exec');
  assert.equal(ruleAllows(req({ apiGroup: 'apps', resource: 'deployments', subresource: 'scale' }), { verbs: ['*'], apiGroups: ['*'], resources: ['*/scale'] }), true);
  const named: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cfg'] };
  assert.equal(ruleAllows(req({ resource: 'configmaps', name: 'cfg' }), named), true);
  assert.equal(ruleAllows(req({ resource: 'configmaps', name: 'other' }), named), false);
  assert.equal(ruleAllows(req({ verb: 'list', resource: 'configmaps' }), { ...named, verbs: ['list'] }), false, 'a list has no name');
  const urls: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
  assert.equal(ruleAllows(req({ isResourceRequest: false, path: '/healthz' }), urls), true);
  assert.equal(ruleAllows(req({ isResourceRequest: false, path: '/apis/apps/v1' }), urls), true);
  assert.equal(ruleAllows(req({ isResourceRequest: false, path: '/metrics' }), urls), false);
  assert.equal(ruleAllows(req({ isResourceRequest: false, path: '/healthz' }), { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }), false);
});

test('escalation: held rules must cover every granted verb, group, resource and name', () => {
  const edit: PolicyRule[] = [{ verbs: ['get', 'list', 'create', 'delete'], apiGroups: ['', 'apps'], resources: ['pods', 'deployments'] }];
  assert.deepEqual(uncoveredRules(edit, [{ verbs: ['get', 'create'], apiGroups: ['apps'], resources: ['deployments'] }]), []);
  const missing = uncoveredRules(edit, [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'] }]);
  assert.deepEqual(missing.map(compactRule), ['{APIGroups:["*"], Resources:["*"], Verbs:["*"]}', '{NonResourceURLs:["/metrics"], Verbs:["get"]}']);
  // A name-restricted grant is covered by an unrestricted rule, not the other way round.
  assert.deepEqual(uncoveredRules(edit, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }]), []);
  assert.equal(uncoveredRules([{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]).length, 1);
  assert.deepEqual(uncoveredRules([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }], [{ verbs: ['get'], nonResourceURLs: ['/x'] }, { verbs: ['bind'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'] }]), []);
});

function authz(): RbacAuthorizer {
  const a = new RbacAuthorizer();
  a.set('ClusterRole', { metadata: { name: 'view' }, rules: [{ verbs: ['get', 'list', 'watch'], apiGroups: ['', 'apps'], resources: ['pods', 'deployments'] }] });
  a.set('ClusterRole', { metadata: { name: 'nodes-reader' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }] });
  a.set('Role', { metadata: { namespace: 'a', name: 'cm-writer' }, rules: [{ verbs: ['create'], apiGroups: [''], resources: ['configmaps'] }] });
  a.set('RoleBinding', { metadata: { namespace: 'a', name: 'jane-view' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'jane' }] });
  a.set('RoleBinding', { metadata: { namespace: 'a', name: 'dev-cm' }, roleRef: { kind: 'Role', name: 'cm-writer' }, subjects: [{ kind: 'Group', name: 'dev' }] });
  a.set('RoleBinding', { metadata: { namespace: 'a', name: 'sa-view' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'viewer' }] });
  a.set('ClusterRoleBinding', { metadata: { name: 'authenticated-nodes' }, roleRef: { kind: 'ClusterRole', name: 'nodes-reader' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] });
  return a;
}

test('bindings: a RoleBinding grants in its namespace only; groups, ServiceAccounts and ClusterRoleBindings', () => {
  const a = authz();
  assert.equal(a.authorize(req({})), 'allow');
  assert.equal(a.authorize(req({ namespace: 'b' })), 'no-opinion', 'a RoleBinding to a ClusterRole grants only in its namespace');
  assert.equal(a.authorize(req({ verb: 'create', resource: 'configmaps' })), 'allow', 'through the dev group');
  assert.equal(a.authorize(req({ verb: 'create', resource: 'pods' })), 'no-opinion');
  assert.equal(a.authorize(req({ resource: 'nodes', namespace: '', name: 'n1' })), 'allow', 'a ClusterRoleBinding grants cluster-wide');
  const sa: UserInfo = { name: 'system:serviceaccount:a:viewer', groups: ['system:serviceaccounts', 'system:serviceaccounts:a'] };
  assert.equal(a.authorize(req({ user: sa, verb: 'list' })), 'allow', 'a ServiceAccount subject defaults to the binding namespace');
  assert.equal(a.authorize(req({ user: { name: 'system:serviceaccount:b:viewer', groups: [] } })), 'no-opinion');
  assert.equal(a.authorize(req({ user: { name: 'bob', groups: [] } })), 'no-opinion');
});

test('updates and removals take effect at once; a binding to a missing role grants nothing', () => {
  const a = authz();
  a.remove('RoleBinding', { metadata: { namespace: 'a', name: 'jane-view' } });
  assert.equal(a.authorize(req({})), 'no-opinion');
  a.set('RoleBinding', { metadata: { namespace: 'a', name: 'jane-view' }, roleRef: { kind: 'ClusterRole', name: 'missing' }, subjects: [{ kind: 'User', name: 'jane' }] });
  assert.equal(a.authorize(req({})), 'no-opinion');
  a.set('ClusterRole', { metadata: { name: 'missing' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] });
  assert.equal(a.authorize(req({})), 'allow', 'the role arriving after its binding is found by name');
  // Replacing a binding re-indexes its subjects.
  a.set('RoleBinding', { metadata: { namespace: 'a', name: 'jane-view' }, roleRef: { kind: 'ClusterRole', name: 'missing' }, subjects: [{ kind: 'User', name: 'bob' }] });
  assert.equal(a.authorize(req({})), 'no-opinion');
  assert.deepEqual(a.rulesFor({ name: 'bob', groups: [] }, 'a'), [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
});
