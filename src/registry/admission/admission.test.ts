import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiError, errors } from '../../errors/index.ts';
import { RbacAuthorizer } from '../../auth/rbac/rbac-authorizer.ts';
import { R } from '../../client/client.ts';
import { LocalClient } from '../../client/local-client.ts';
import { openStore } from '../../storage/index.ts';
import { resourceTypes } from '../kinds/index.ts';
import { Registry } from '../registry.ts';
import { AdmissionChain, SYSTEM_USER, type AdmissionRequest } from './admission.ts';

async function withRegistry(fn: (r: Registry) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-admission-'));
  const backend = await openStore('sqlite', dir);
  try {
    const registry = new Registry(backend, resourceTypes());
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    await fn(registry);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const cm = (name: string, data: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

test('mutating plugins change the object, validating plugins refuse; a refused write stores nothing', async () => {
  await withRegistry(async (registry) => {
    const seen: AdmissionRequest[] = [];
    registry.admission = new AdmissionChain([{
      name: 'Stamp',
      admit(req) { if (req.object) req.object.metadata.labels = { ...req.object.metadata.labels, stamped: 'yes' }; },
    }, {
      name: 'NoSecrets',
      validate(req) {
        seen.push(req);
        if (req.object?.data?.password) throw errors.forbidden('', 'configmaps', req.name, 'no passwords in ConfigMaps');
      },
    }]);
    const store = registry.store('', 'configmaps')!;
    const jane = { name: 'jane', groups: ['dev'] };
    const created = await store.create('a', cm('ok'), { user: jane });
    assert.equal(created.metadata.labels?.stamped, 'yes');
    assert.equal(seen[0].operation, 'CREATE');
    assert.deepEqual(seen[0].user, jane);
    assert.equal(seen[0].object?.metadata.uid, created.metadata.uid, 'validation sees the prepared object');
    await assert.rejects(store.create('a', cm('bad', { password: 'x' }), { user: jane }), (e: ApiError) => e.http === 403);
    await assert.rejects(store.get('a', 'bad'), (e: ApiError) => e.http === 404, 'nothing stored');
    await assert.rejects(store.update('a', 'ok', cm('ok', { password: 'x' })), /no passwords/);
    assert.equal(seen.at(-1)!.operation, 'UPDATE');
    assert.deepEqual(seen.at(-1)!.user, SYSTEM_USER, 'a write without a user is Berth itself');
    assert.equal(seen.at(-1)!.oldObject?.metadata.name, 'ok');
  });
});

test('deletes pass validation with the object as oldObject', async () => {
  await withRegistry(async (registry) => {
    registry.admission = new AdmissionChain([{
      name: 'Keep', validate(req) { if (req.operation === 'DELETE' && req.oldObject?.metadata.labels?.keep) throw errors.forbidden('', 'configmaps', req.name, 'kept'); },
    }]);
    const c = new LocalClient(registry);
    await c.create(R.configmaps, 'a', { ...cm('k'), metadata: { name: 'k', labels: { keep: '1' } } });
    await assert.rejects(c.delete(R.configmaps, 'a', 'k'), /kept/);
    assert.equal((await c.get(R.configmaps, 'a', 'k')).metadata.name, 'k');
  });
});

test('an in-process client with an identity is authorized like an HTTP one and carries its user', async () => {
  await withRegistry(async (registry) => {
    const users: string[] = [];
    registry.admission = new AdmissionChain([{ name: 'Who', validate(req) { users.push(req.user.name); } }]);
    const rbac = new RbacAuthorizer();
    rbac.set('Role', { metadata: { namespace: 'a', name: 'cm' }, rules: [{ verbs: ['get', 'create'], apiGroups: [''], resources: ['configmaps'] }] });
    rbac.set('RoleBinding', { metadata: { namespace: 'a', name: 'cm' }, roleRef: { kind: 'Role', name: 'cm' }, subjects: [{ kind: 'User', name: 'jane' }] });
    const jane = new LocalClient(registry).as({ user: { name: 'jane', groups: [] }, authorizer: rbac });
    await jane.create(R.configmaps, 'a', cm('mine'));
    assert.deepEqual(users, ['jane']);
    assert.equal((await jane.get(R.configmaps, 'a', 'mine')).metadata.name, 'mine');
    await assert.rejects(jane.list(R.configmaps, 'a'), (e: ApiError) => e.http === 403
      && e.message === 'configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" in the namespace "a"');
    await assert.rejects(jane.delete(R.configmaps, 'a', 'mine'), (e: ApiError) => e.http === 403);
    await assert.rejects(jane.get(R.secrets, 'a', 'x'), (e: ApiError) => e.http === 403, 'forbidden before not-found');
  });
});

test('the chain is synchronous while its plugins are: no promise when none waits, later plugins after one that does', async () => {
  const order: string[] = [];
  const req = { operation: 'CREATE', resource: { group: '', plural: 'configmaps' }, subresource: '', namespace: 'a', name: 'x', user: SYSTEM_USER, dryRun: false } as unknown as AdmissionRequest;
  const sync = new AdmissionChain([{ name: 'A', admit() { order.push('A'); } }, { name: 'B', validate() { order.push('B'); } }]);
  assert.equal(sync.admit(req), undefined);
  assert.equal(sync.validate(req), undefined);
  assert.deepEqual(order, ['A', 'B']);
  order.length = 0;
  const mixed = new AdmissionChain([
    { name: 'A', admit() { order.push('A'); } },
    { name: 'Wait', admit: async () => { await new Promise((r) => setTimeout(r, 5)); order.push('Wait'); } },
    { name: 'C', admit() { order.push('C'); } },
  ]);
  const pending = mixed.admit(req);
  assert.ok(pending instanceof Promise);
  assert.deepEqual(order, ['A'], 'the plugin after one that waits has not run yet');
  await pending;
  assert.deepEqual(order, ['A', 'Wait', 'C']);
  const refusing = new AdmissionChain([{ name: 'Wait', validate: async () => {} }, { name: 'No', validate() { throw errors.forbidden('', 'configmaps', 'x', 'no'); } }]);
  await assert.rejects(async () => refusing.validate(req), (e: ApiError) => e.http === 403);
  assert.throws(() => new AdmissionChain([{ name: 'No', validate() { throw errors.forbidden('', 'configmaps', 'x', 'no'); } }]).validate(req), (e: ApiError) => e.http === 403);
});
