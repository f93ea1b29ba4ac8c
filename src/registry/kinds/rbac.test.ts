import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { clusterRoleBindingStrategy, clusterRoleStrategy, roleBindingStrategy, roleStrategy } from './rbac.ts';

const f = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);
const role = (rules: unknown, extra: Record<string, unknown> = {}): KubeObject => ({ kind: 'Role', metadata: { name: 'r', namespace: 'a' }, rules, ...extra });

test('policy rules: verbs required and known, resources with groups, URLs only in ClusterRoles and only alone', () => {
  assert.deepEqual(roleStrategy.validate!(role([{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }])), []);
  assert.deepEqual(roleStrategy.validate!(role(undefined)), [], 'a role without rules is valid');
  assert.deepEqual(f(roleStrategy.validate!(role([{ apiGroups: [''], resources: ['pods'] }]))), ['rules[0].verbs:FieldValueRequired']);
  const typo = roleStrategy.validate!(role([{ verbs: ['get', 'lsit', 'Get'], apiGroups: [''], resources: ['pods'] }]));
  assert.deepEqual(f(typo), ['rules[0].verbs[1]:FieldValueNotSupported', 'rules[0].verbs[2]:FieldValueNotSupported']);
  assert.match(typo[0].message, /^Unsupported value: "lsit": supported values: "\*", "get", "list"/);
  assert.deepEqual(f(roleStrategy.validate!(role([{ verbs: ['get'] }]))), ['rules[0].apiGroups:FieldValueRequired', 'rules[0].resources:FieldValueRequired']);
  assert.deepEqual(f(roleStrategy.validate!(role([{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]))), ['rules[0].nonResourceURLs:FieldValueInvalid']);
  assert.match(roleStrategy.validate!(role([{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]))[0].message, /namespaced rules cannot apply to non-resource URLs/);
  const cr = (rules: unknown): KubeObject => ({ kind: 'ClusterRole', metadata: { name: 'c' }, rules });
  assert.deepEqual(clusterRoleStrategy.validate!(cr([{ verbs: ['get'], nonResourceURLs: ['/healthz', '/api/*', '*'] }])), []);
  assert.deepEqual(f(clusterRoleStrategy.validate!(cr([{ verbs: ['get'], nonResourceURLs: ['/x'], resources: ['pods'] }]))), ['rules[0].nonResourceURLs:FieldValueInvalid']);
  assert.deepEqual(f(clusterRoleStrategy.validate!(cr([{ verbs: ['get'], nonResourceURLs: ['healthz'] }]))), ['rules[0].nonResourceURLs[0]:FieldValueInvalid']);
  assert.deepEqual(f(clusterRoleStrategy.validate!(cr([{ verbs: 'get', apiGroups: [''], resources: ['pods'] }]))), ['rules[0].verbs:FieldValueTypeInvalid']);
  assert.deepEqual(f(clusterRoleStrategy.validate!(cr('x'))), ['rules:FieldValueTypeInvalid']);
});

test('aggregationRule: at least one valid selector', () => {
  const cr = (aggregationRule: unknown): KubeObject => ({ kind: 'ClusterRole', metadata: { name: 'c' }, aggregationRule });
  assert.deepEqual(clusterRoleStrategy.validate!(cr({ clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-x': 'true' } }] })), []);
  assert.deepEqual(f(clusterRoleStrategy.validate!(cr({}))), ['aggregationRule.clusterRoleSelectors:FieldValueRequired']);
  assert.deepEqual(f(clusterRoleStrategy.validate!(cr({ clusterRoleSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Near' }] }] }))),
    ['aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator:FieldValueInvalid']);
});

test('bindings: defaults, roleRef kinds and group, subjects, roleRef immutable', () => {
  const rb: KubeObject = { kind: 'RoleBinding', metadata: { name: 'b', namespace: 'a' }, roleRef: { kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', name: 'jane' }, { kind: 'Group', name: 'dev' }, { kind: 'ServiceAccount', name: 'viewer' }] };
  roleBindingStrategy.defaults!(rb);
  assert.equal(rb.roleRef.apiGroup, 'rbac.authorization.k8s.io');
  assert.deepEqual(rb.subjects.map((s: any) => s.apiGroup), ['rbac.authorization.k8s.io', 'rbac.authorization.k8s.io', undefined]);
  assert.deepEqual(roleBindingStrategy.validate!(rb), []);
  const crb = { ...structuredClone(rb), kind: 'ClusterRoleBinding', metadata: { name: 'b' } };
  assert.deepEqual(f(clusterRoleBindingStrategy.validate!(crb)), ['subjects[2].namespace:FieldValueRequired'], 'a cluster binding names the SA namespace');
  const bad: KubeObject = { kind: 'RoleBinding', metadata: { name: 'b', namespace: 'a' }, roleRef: { apiGroup: 'x.io', kind: 'Secret', name: '' },
    subjects: [{ kind: 'Robot', name: 'r' }, { kind: 'User', name: 'u', apiGroup: 'x.io' }, { kind: 'ServiceAccount', name: 'Not_DNS', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'User' }] };
  assert.deepEqual(f(roleBindingStrategy.validate!(bad)), [
    'roleRef.apiGroup:FieldValueNotSupported', 'roleRef.kind:FieldValueNotSupported', 'roleRef.name:FieldValueRequired',
    'subjects[0].kind:FieldValueNotSupported', 'subjects[1].apiGroup:FieldValueNotSupported',
    'subjects[2].name:FieldValueInvalid', 'subjects[2].apiGroup:FieldValueNotSupported', 'subjects[3].name:FieldValueRequired', 'subjects[3].apiGroup:FieldValueNotSupported',
  ]);
  const changed = { ...structuredClone(rb), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' } };
  const errs = roleBindingStrategy.validateUpdate!(changed, rb);
  assert.deepEqual(f(errs), ['roleRef:FieldValueInvalid']);
  assert.match(errs[0].message, /cannot change roleRef$/);
  assert.deepEqual(roleBindingStrategy.validateUpdate!({ ...structuredClone(rb), subjects: [] }, rb), [], 'subjects may change');
});
