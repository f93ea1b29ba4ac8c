import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ObjectStore, type Obj } from './object-store.ts';

const pod = (name: string, rv: number, uid = `u-${name}`): Obj => ({ metadata: { name, namespace: 'ns', uid, resourceVersion: String(rv) } });

test('a LIST replaces what is held; a replayed event after a reconnect does not duplicate a row', () => {
  const s = new ObjectStore();
  s.apply({ id: 'p', type: 'LIST', items: [pod('a', 5), pod('b', 6)], resourceVersion: '6' });
  assert.equal(s.size, 2);
  s.apply({ id: 'p', type: 'ADDED', object: pod('a', 5) });
  s.apply({ id: 'p', type: 'MODIFIED', object: pod('c', 7) });
  assert.deepEqual(s.list().map((o) => o.metadata.name).sort(), ['a', 'b', 'c']);
  assert.equal(s.resourceVersion, '7');
  // A relist after 410 Gone: what went meanwhile goes from the table.
  s.apply({ id: 'p', type: 'LIST', items: [pod('c', 9)], resourceVersion: '10' });
  assert.deepEqual(s.list().map((o) => o.metadata.name), ['c']);
  assert.equal(s.resourceVersion, '10');
});

test('an older event never overwrites a newer object; a delete of an old incarnation keeps the new one', () => {
  const s = new ObjectStore();
  s.apply({ id: 'p', type: 'MODIFIED', object: { ...pod('a', 9), status: { phase: 'Running' } } });
  assert.equal(s.apply({ id: 'p', type: 'MODIFIED', object: { ...pod('a', 8), status: { phase: 'Pending' } } }), false);
  assert.equal(s.get('ns/a')?.status.phase, 'Running');
  assert.equal(s.apply({ id: 'p', type: 'DELETED', object: pod('a', 3, 'old-uid') }), false);
  assert.equal(s.size, 1);
  s.apply({ id: 'p', type: 'DELETED', object: pod('a', 10) });
  assert.equal(s.size, 0);
});

test('bookmarks move the resume point without a change; errors are kept for the view', () => {
  const s = new ObjectStore();
  const v = s.version;
  assert.equal(s.apply({ id: 'p', type: 'BOOKMARK', resourceVersion: '42' }), false);
  assert.equal(s.resourceVersion, '42');
  assert.equal(s.version, v);
  s.apply({ id: 'p', type: 'ERROR', status: { code: 403, message: 'pods is forbidden' } });
  assert.equal(s.error, 'pods is forbidden');
});
