import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { clusterRoleBindingStrategy, clusterRoleStrategy, roleBindingStrategy, roleStrategy } from '../../registry/kinds/rbac.ts';
import { aggregatedRules } from './aggregation.ts';
import { bootstrapPolicy, nodeRules } from './bootstrap-policy.ts';
import { CONTROLLER_RULES, controllerUser } from './controller-policy.ts';
import { uncoveredRules, type PolicyRule } from './policy-rule.ts';
import { RbacAuthorizer } from './rbac-authorizer.ts';
import type { Attributes, UserInfo } from '../attributes.ts';

const policy = bootstrapPolicy();

/** The policy as stored once the aggregation ran: admin, edit and view filled. */
function aggregated(): Map<string, KubeObject> {
  const roles = new Map(policy.clusterRoles.map((r) => [r.metadata.name!, structuredClone(r)]));
  for (let pass = 0; pass < 3; pass++) for (const r of roles.values()) { const rules = aggregatedRules(r, roles.values()); if (rules) r.rules = rules; }
  return roles;
}

function authorizer(): RbacAuthorizer {
  const a = new RbacAuthorizer();
  for (const r of aggregated().values()) a.set('ClusterRole', r);
  for (const b of policy.clusterRoleBindings) a.set('ClusterRoleBinding', b);
  for (const r of policy.roles) a.set('Role', r);
  for (const b of policy.roleBindings) a.set('RoleBinding', b);
  return a;
}

const req = (user: UserInfo, verb: string, resource: string, o: Partial<Attributes> = {}): Attributes => ({
  user, verb, isResourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace: '', name: '', ...o,
});

test('every default object is valid, labelled, auto-updated, and every binding names a default role', () => {
  const errs = [
    ...policy.clusterRoles.flatMap((o) => clusterRoleStrategy.validate!(o).map((e) => `${o.metadata.name}: ${e.field} ${e.message}`)),
    ...policy.roles.flatMap((o) => roleStrategy.validate!(o).map((e) => `${o.metadata.name}: ${e.field} ${e.message}`)),
    ...policy.clusterRoleBindings.flatMap((o) => clusterRoleBindingStrategy.validate!(o).map((e) => `${o.metadata.name}: ${e.field} ${e.message}`)),
    ...policy.roleBindings.flatMap((o) => roleBindingStrategy.validate!(o).map((e) => `${o.metadata.name}: ${e.field} ${e.message}`)),
  ];
  assert.deepEqual(errs, []);
  const all = [...policy.clusterRoles, ...policy.clusterRoleBindings, ...policy.roles, ...policy.roleBindings];
  for (const o of all) {
    assert.equal(o.metadata.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults', o.metadata.name);
    assert.equal(o.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'], 'true', o.metadata.name);
  }
  const names = new Set(policy.clusterRoles.map((r) => r.metadata.name));
  for (const b of policy.clusterRoleBindings) assert.ok(names.has(b.roleRef.name), `${b.metadata.name} → ${b.roleRef.name}`);
  for (const b of policy.roleBindings) assert.ok(policy.roles.some((r) => r.metadata.name === b.roleRef.name && r.metadata.namespace === b.metadata.namespace), b.metadata.name);
  assert.equal(new Set(all.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).size, all.length, 'no duplicates');
  for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user', 'system:public-info-viewer', 'system:node', 'system:node-proxier', 'system:kube-scheduler', 'system:kube-controller-manager', 'system:kube-dns', 'system:node-bootstrapper']) {
    assert.ok(names.has(name), name);
  }
});

test('view ⊂ edit ⊂ admin ⊂ cluster-admin once aggregated; view reads no Secrets, edit grants no RBAC', () => {
  const roles = aggregated();
  const rules = (n: string) => roles.get(n)!.rules as PolicyRule[];
  assert.ok(rules('view').length >= 10);
  assert.deepEqual(uncoveredRules(rules('edit'), rules('view')), []);
  assert.deepEqual(uncoveredRules(rules('admin'), rules('edit')), []);
  assert.deepEqual(uncoveredRules(rules('cluster-admin'), rules('admin')), []);
  assert.equal(uncoveredRules(rules('view'), [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]).length, 1);
  assert.equal(uncoveredRules(rules('edit'), [{ verbs: ['create'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'] }]).length, 1);
  assert.deepEqual(uncoveredRules(rules('admin'), [{ verbs: ['create'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'] }]), []);
});

test('the default bindings: discovery and self-reviews for everyone, health for anonymous, masters do anything', () => {
  const a = authorizer();
  const anyone: UserInfo = { name: 'jane', groups: ['system:authenticated'] };
  const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
  const url = (user: UserInfo, path: string) => a.authorize({ ...req(user, 'get', ''), isResourceRequest: false, path });
  assert.equal(url(anyone, '/apis/apps/v1'), 'allow');
  assert.equal(url(anonymous, '/healthz'), 'allow');
  assert.equal(url(anonymous, '/apis'), 'no-opinion');
  assert.equal(a.authorize(req(anyone, 'create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io' })), 'allow');
  assert.equal(a.authorize(req(anyone, 'create', 'selfsubjectrulesreviews', { apiGroup: 'authorization.k8s.io' })), 'allow');
  assert.equal(a.authorize(req(anyone, 'create', 'subjectaccessreviews', { apiGroup: 'authorization.k8s.io' })), 'no-opinion');
  assert.equal(a.authorize(req(anyone, 'list', 'pods', { namespace: 'default' })), 'no-opinion');
  assert.equal(a.authorize(req({ name: 'root', groups: ['system:masters'] }, 'delete', 'nodes')), 'allow');
});

test('components: each holds its own rules and no more', () => {
  const a = authorizer();
  const scheduler: UserInfo = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };
  assert.equal(a.authorize(req(scheduler, 'create', 'pods', { subresource: 'binding', namespace: 'x', name: 'p' })), 'allow');
  assert.equal(a.authorize(req(scheduler, 'get', 'secrets', { namespace: 'x', name: 's' })), 'no-opinion');
  const rs = controllerUser('replicaset-controller');
  assert.equal(a.authorize(req(rs, 'create', 'pods', { namespace: 'x' })), 'allow');
  assert.equal(a.authorize(req(rs, 'delete', 'deployments', { apiGroup: 'apps', namespace: 'x', name: 'd' })), 'no-opinion');
  assert.equal(a.authorize(req(rs, 'get', 'secrets', { namespace: 'x', name: 's' })), 'no-opinion');
  const manager: UserInfo = { name: 'system:kube-controller-manager', groups: ['system:authenticated'] };
  assert.equal(a.authorize(req(manager, 'watch', 'anything', { apiGroup: 'example.com' })), 'allow', 'the shared informers list and watch everything');
  assert.equal(a.authorize(req(manager, 'update', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-system', name: 'berth-controller-manager' })), 'allow');
  assert.equal(a.authorize(req(manager, 'update', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-system', name: 'other' })), 'no-opinion');
  const proxy: UserInfo = { name: 'system:kube-proxy', groups: ['system:authenticated'] };
  assert.equal(a.authorize(req(proxy, 'watch', 'endpointslices', { apiGroup: 'discovery.k8s.io' })), 'allow');
  assert.equal(a.authorize(req(proxy, 'create', 'pods', { namespace: 'x' })), 'no-opinion');
  const dns: UserInfo = { name: 'system:serviceaccount:kube-system:kube-dns', groups: ['system:serviceaccounts'] };
  assert.equal(a.authorize(req(dns, 'list', 'services')), 'allow');
  assert.equal(a.authorize(req(dns, 'list', 'secrets')), 'no-opinion');
  for (const account of Object.keys(CONTROLLER_RULES)) {
    const rules = a.rulesFor(controllerUser(account), '');
    assert.ok(rules.length > 0, `${account} is bound to its role`);
    assert.ok(!rules.some((r) => r.verbs.includes('*') && r.resources?.includes('*')), `${account} is no admin`);
  }
});

test('system:node: the node rules, bound to nobody (the Node authorizer grants them, each node for its own objects)', () => {
  const a = authorizer();
  const node: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  assert.equal(a.authorize(req(node, 'patch', 'nodes', { subresource: 'status', name: 'n1' })), 'no-opinion');
  assert.equal(a.authorize(req(node, 'get', 'secrets', { namespace: 'default', name: 'x' })), 'no-opinion');
  assert.ok(nodeRules().some((r) => r.resources?.includes('serviceaccounts/token')));
});
