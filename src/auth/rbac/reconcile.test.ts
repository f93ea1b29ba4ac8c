import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { clusterRole, clusterRoleBinding, rule } from './policy-builders.ts';
import { reconcileBinding, reconcileRole } from './reconcile.ts';

const stored = (o: KubeObject, extra: Partial<KubeObject> = {}): KubeObject => ({ ...structuredClone(o), ...extra, metadata: { ...structuredClone(o.metadata), resourceVersion: '7', ...(extra.metadata ?? {}) } });

test('roles: missing ones are created; stored ones gain missing rules, labels and selectors and keep what a user added', () => {
  const want = clusterRole('r', [rule(['get', 'list'], [''], ['pods'])], { labels: { a: '1' }, aggregateFrom: 'x/agg' });
  assert.equal(reconcileRole(want, undefined).op, 'create');
  assert.deepEqual(reconcileRole(want, stored(want)), { op: 'none' });
  const userAdded = stored(want, { rules: [rule(['get'], [''], ['pods']), rule(['delete'], [''], ['secrets'])], metadata: { name: 'r', labels: { mine: 'yes' } } });
  const r = reconcileRole(want, userAdded);
  assert.equal(r.op, 'update');
  const obj = (r as { object: KubeObject }).object;
  assert.deepEqual(obj.rules, [rule(['get'], [''], ['pods']), rule(['delete'], [''], ['secrets']), { verbs: ['list'], apiGroups: [''], resources: ['pods'] }], 'only the missing verb is added');
  assert.deepEqual(obj.metadata.labels, { 'kubernetes.io/bootstrapping': 'rbac-defaults', a: '1', mine: 'yes' });
  assert.equal(obj.metadata.resourceVersion, '7');
  // A user's selector stays; the default's comes back.
  const otherSelector = stored(want, { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { mine: 'true' } }] } });
  assert.deepEqual((reconcileRole(want, otherSelector) as { object: KubeObject }).object.aggregationRule.clusterRoleSelectors,
    [{ matchLabels: { mine: 'true' } }, { matchLabels: { 'x/agg': 'true' } }]);
});

test('autoupdate "false" protects a changed object; a value the user changed is not overwritten', () => {
  const want = clusterRole('r', [rule(['get'], [''], ['pods'])]);
  const off = stored(want, { rules: [], metadata: { name: 'r', annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } } });
  assert.deepEqual(reconcileRole(want, off), { op: 'protected' });
  const relabelled = stored(want, { metadata: { name: 'r', labels: { 'kubernetes.io/bootstrapping': 'mine' } } });
  assert.deepEqual(reconcileRole(want, relabelled), { op: 'none' });
});

test('bindings: missing subjects added, extra kept; a different roleRef means recreate', () => {
  const want = clusterRoleBinding('b', 'view', 'Group:g1', 'User:u1');
  assert.equal(reconcileBinding(want, undefined).op, 'create');
  assert.deepEqual(reconcileBinding(want, stored(want)), { op: 'none' });
  const extra = stored(want, { subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'u1' }, { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'mine' }] });
  const r = reconcileBinding(want, extra) as { op: string; object: KubeObject };
  assert.equal(r.op, 'update');
  assert.deepEqual(r.object.subjects.map((s: { name: string }) => s.name), ['u1', 'mine', 'g1']);
  const moved = stored(want, { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' } });
  assert.equal(reconcileBinding(want, moved).op, 'recreate');
});
