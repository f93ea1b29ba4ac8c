import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES } from '../../apis/resources.ts';
import { FIELD_SELECTORS, TABLES } from './index.ts';

const now = new Date('2024-01-01T12:00:00Z');

test('every served resource has a table, and only those', () => {
  const keys = RESOURCES.map((r) => `${r.group}/${r.plural}`).sort();
  assert.deepEqual(Object.keys(TABLES).sort(), keys);
  for (const k of Object.keys(FIELD_SELECTORS)) assert.ok(keys.includes(k), k);
});

test('every table: a name column, priorities 0/1, one cell per column even for a bare object', () => {
  for (const [key, table] of Object.entries(TABLES)) {
    const nameCols = table.columns.filter((c) => c.format === 'name');
    assert.equal(nameCols.length, 1, key);
    if (!key.endsWith('/events')) assert.deepEqual(table.columns[0], { ...nameCols[0], name: 'Name', priority: 0 }, key);
    for (const c of table.columns) assert.ok(c.priority === 0 || c.priority === 1, `${key} ${c.name}`);
    const cells = table.cells({ metadata: { name: 'bare' } }, now);
    assert.equal(cells.length, table.columns.length, key);
    const nameIdx = table.columns.indexOf(nameCols[0]);
    assert.ok(String(cells[nameIdx]).startsWith('bare'), key);
  }
});

test('field selector getters tolerate bare objects', () => {
  for (const [key, getters] of Object.entries(FIELD_SELECTORS)) {
    for (const [f, g] of Object.entries(getters)) {
      const v = g({ metadata: { name: 'bare' } });
      assert.ok(v === undefined || typeof v === 'string', `${key} ${f}`);
    }
  }
});
