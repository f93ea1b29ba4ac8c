import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podDisruptionBudgetTable as t } from './policy.ts';

const now = new Date('2024-01-01T12:00:00Z');

test('pdb: MIN AVAILABLE and MAX UNAVAILABLE as written or N/A, ALLOWED DISRUPTIONS from status, AGE', () => {
  assert.deepEqual(t.columns.map((c) => `${c.name}:${c.type}`), ['Name:string', 'Min Available:string', 'Max Unavailable:string', 'Allowed Disruptions:integer', 'Age:string']);
  const at = '2024-01-01T11:00:00Z';
  assert.deepEqual(t.cells({ metadata: { name: 'a', creationTimestamp: at }, spec: { maxUnavailable: 1 }, status: { disruptionsAllowed: 1 } }, now), ['a', 'N/A', '1', 1, '60m']);
  assert.deepEqual(t.cells({ metadata: { name: 'b', creationTimestamp: at }, spec: { minAvailable: '50%' } }, now), ['b', '50%', 'N/A', 0, '60m']);
});
