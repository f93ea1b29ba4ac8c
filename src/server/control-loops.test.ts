import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapPolicy } from '../auth/rbac/bootstrap-policy.ts';
import { CONTROLLER_RULES, controllerUser } from '../auth/rbac/controller-policy.ts';
import { CONTROLLER_DESCRIPTORS } from '../controllers/descriptors.ts';
import { CONTROLLER_MANAGER_USER, controllerAccount, controllerIdentity } from './control-loops.ts';

test('every controller acts as an account the bootstrap policy gives a role (or as the manager)', () => {
  const policy = bootstrapPolicy();
  const bound = new Set([...policy.clusterRoleBindings, ...policy.roleBindings].flatMap((b) => (b.subjects ?? [])
    .filter((s: { kind: string }) => s.kind === 'ServiceAccount').map((s: { name: string }) => s.name)));
  const missing = CONTROLLER_DESCRIPTORS.filter((d) => {
    const account = controllerAccount(d.name);
    return account !== null && !bound.has(account);
  }).map((d) => `${d.name} → ${controllerAccount(d.name)}`);
  assert.deepEqual(missing, [], 'add the account to ACCOUNTS in control-loops.ts or its role to auth/rbac/controller-policy.ts');
  assert.equal(controllerAccount('replicaset'), 'replicaset-controller');
  assert.equal(controllerAccount('garbage-collector'), 'generic-garbage-collector');
  assert.ok(CONTROLLER_RULES['generic-garbage-collector']);
  assert.deepEqual(controllerIdentity('serviceaccount-token'), CONTROLLER_MANAGER_USER);
  assert.deepEqual(controllerIdentity('job'), controllerUser('job-controller'));
});
