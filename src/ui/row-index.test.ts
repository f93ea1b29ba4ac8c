import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ObjectStore, type Obj } from './object-store.ts';
import { RowIndex } from './row-index.ts';
import { columnsFor, visibleRows } from './table-model.ts';

const pod = (name: string, rv: number, restarts = 0, node = 'n1'): Obj => ({
  metadata: { name, namespace: 'default', uid: `u-${name}`, resourceVersion: String(rv), creationTimestamp: '2026-12-06T10:00:00Z' },
  spec: { nodeName: node, containers: [{ name: 'c' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: restarts, state: { running: {} } }] },
});
const names = (rows: readonly Obj[]) => rows.map((o) => o.metadata.name);

test('the index follows a paged LIST and later events, in the same order as a full sort', () => {
  const s = new ObjectStore();
  const cols = columnsFor('pods', true);
  const ix = new RowIndex(s, cols, 'Name', false);
  s.apply({ id: 'p', type: 'LIST', items: [pod('web-10', 1), pod('web-2', 2)], resourceVersion: '2', more: true, page: 0 });
  assert.deepEqual(names(ix.rows()), ['web-2', 'web-10']);
  s.apply({ id: 'p', type: 'LIST', items: [pod('web-1', 3)], resourceVersion: '3', page: 1 });
  assert.deepEqual(names(ix.rows()), ['web-1', 'web-2', 'web-10']);
  s.apply({ id: 'p', type: 'DELETED', object: pod('web-2', 4) });
  s.apply({ id: 'p', type: 'ADDED', object: pod('web-3', 5) });
  assert.deepEqual(names(ix.rows()), ['web-1', 'web-3', 'web-10']);
  assert.deepEqual(names(ix.rows('WEB-1')), ['web-1', 'web-10']);
  ix.close();
  s.apply({ id: 'p', type: 'ADDED', object: pod('web-4', 6) });
  assert.equal(ix.size, 3, 'a closed index no longer follows the store');
});

test('a relist in pages removes at its last page what no page named', () => {
  const s = new ObjectStore();
  s.apply({ id: 'p', type: 'LIST', items: [pod('a', 1), pod('b', 2)], resourceVersion: '2' });
  const ix = new RowIndex(s, columnsFor('pods', true), 'Name', false);
  s.apply({ id: 'p', type: 'LIST', items: [pod('c', 5)], resourceVersion: '5', more: true, page: 0 });
  // Mid-list the old rows still show and the resume point is still the old list's.
  assert.deepEqual(names(ix.rows()), ['a', 'b', 'c']);
  assert.equal(s.resourceVersion, '2');
  s.apply({ id: 'p', type: 'LIST', items: [pod('b', 6)], resourceVersion: '5', page: 1 });
  assert.deepEqual(names(ix.rows()), ['b', 'c']);
  assert.equal(s.resourceVersion, '5');
});

test('any sequence of changes leaves the index equal to a full filter and sort (property)', () => {
  const op = fc.record({ kind: fc.constantFrom('set', 'set', 'del'), name: fc.integer({ min: 0, max: 40 }), restarts: fc.integer({ min: 0, max: 5 }), node: fc.constantFrom('n1', 'n2') });
  fc.assert(fc.property(
    fc.array(fc.array(op, { maxLength: 150 }), { maxLength: 6 }),
    fc.constantFrom('Name', 'Restarts', 'Node'), fc.boolean(), fc.constantFrom('', 'n2', 'web-1'),
    (batches, sortBy, descending, filter) => {
      const s = new ObjectStore();
      const cols = columnsFor('pods', true);
      const ix = new RowIndex(s, cols, sortBy, descending);
      let rv = 1;
      for (const batch of batches) {
        for (const o of batch) {
          const p = pod(`web-${o.name}`, ++rv, o.restarts, o.node);
          s.apply(o.kind === 'set' ? { id: 'p', type: 'MODIFIED', object: p } : { id: 'p', type: 'DELETED', object: p });
        }
        assert.deepEqual(names(ix.rows(filter)), names(visibleRows(s.list(), cols, { sortBy, descending, filter })));
      }
    }), { numRuns: 200 });
});

test('100 changes on 30,000 rows cost well under a frame', () => {
  const s = new ObjectStore();
  s.apply({ id: 'p', type: 'LIST', items: Array.from({ length: 30_000 }, (_, i) => pod(`p-${i}`, i + 1)), resourceVersion: '30000' });
  const ix = new RowIndex(s, columnsFor('pods', true), 'Name', false);
  ix.rows();
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) s.apply({ id: 'p', type: 'MODIFIED', object: pod(`p-${i * 7}`, 40_000 + i, 1) });
  assert.equal(ix.rows().length, 30_000);
  const ms = performance.now() - t0;
  // A full sort of 30,000 took hundreds of ms; generous bound for a loaded 2-core machine.
  assert.ok(ms < 100, `${ms.toFixed(1)} ms`);
});
