import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Obj } from './object-store.ts';
import { columnsFor, viewportWindow, visibleRows } from './table-model.ts';

const pod = (name: string, restarts: number, node: string): Obj => ({
  metadata: { name, namespace: 'default', creationTimestamp: '2026-12-06T10:00:00Z' },
  spec: { nodeName: node, containers: [{ name: 'c' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: restarts, state: { running: {} } }] },
});

test('sort by a numeric column, either way; ties by name', () => {
  const cols = columnsFor('pods', true);
  const pods = [pod('b', 2, 'n1'), pod('a', 10, 'n2'), pod('c', 2, 'n1')];
  assert.deepEqual(visibleRows(pods, cols, { sortBy: 'Restarts', descending: false, filter: '' }).map((o) => o.metadata.name), ['b', 'c', 'a']);
  assert.deepEqual(visibleRows(pods, cols, { sortBy: 'Restarts', descending: true, filter: '' }).map((o) => o.metadata.name), ['a', 'b', 'c']);
  assert.deepEqual(visibleRows([pod('web-10', 0, 'n'), pod('web-9', 0, 'n')], cols, { sortBy: 'Name', descending: false, filter: '' }).map((o) => o.metadata.name), ['web-9', 'web-10']);
});

test('the text filter matches every word in any column', () => {
  const cols = columnsFor('pods', true);
  const pods = [pod('web-1', 0, 'node-a'), pod('web-2', 0, 'node-b'), pod('db-1', 0, 'node-a')];
  assert.deepEqual(visibleRows(pods, cols, { sortBy: 'Name', descending: false, filter: 'WEB node-a' }).map((o) => o.metadata.name), ['web-1']);
  assert.equal(columnsFor('nodes', false).some((c) => c.title === 'Namespace'), false);
});

test('the viewport window keeps the DOM small at 30,000 rows', () => {
  const w = viewportWindow(28 * 15_000, 800, 28, 30_000);
  assert.equal(w.start, 14_990);
  assert.ok(w.end - w.start < 200, `${w.end - w.start} rows`);
  assert.deepEqual(viewportWindow(0, 800, 28, 5), { start: 0, end: 5 });
  assert.deepEqual(viewportWindow(28 * 29_999, 800, 28, 30_000).end, 30_000);
});
