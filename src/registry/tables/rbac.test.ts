import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roleBindingTable, roleTable } from './rbac.ts';

const now = new Date('2024-01-01T12:00:00Z');

test('roles: NAME and CREATED AT (RFC 3339)', () => {
  assert.deepEqual(roleTable.columns.map((c) => c.name), ['Name', 'Created At']);
  assert.equal(roleTable.columns[1].type, 'date');
  assert.deepEqual(roleTable.cells({ metadata: { name: 'view', creationTimestamp: '2024-01-01T11:00:00Z' } }, now), ['view', '2024-01-01T11:00:00Z']);
});

test('bindings: ROLE as Kind/name, AGE; -o wide users, groups and ServiceAccounts as namespace/name', () => {
  assert.deepEqual(roleBindingTable.columns.map((c) => `${c.name}:${c.priority}`), ['Name:0', 'Role:0', 'Age:0', 'Users:1', 'Groups:1', 'ServiceAccounts:1']);
  const cells = roleBindingTable.cells({
    metadata: { name: 'b', creationTimestamp: '2024-01-01T11:00:00Z' }, roleRef: { kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', name: 'jane' }, { kind: 'User', name: 'bob' }, { kind: 'Group', name: 'dev' }, { kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }, { kind: 'ServiceAccount', name: 'local' }],
  }, now);
  assert.deepEqual(cells, ['b', 'ClusterRole/view', '60m', 'jane, bob', 'dev', 'ns/sa, local']);
});
