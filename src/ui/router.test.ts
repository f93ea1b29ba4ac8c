import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detailsHref, groupOf, parseHash, tableHref } from './router.ts';

test('deep links round-trip: table and details URLs parse back to their view, group, namespace and name', () => {
  const pods = { group: '', version: 'v1', resource: 'pods' };
  const t = parseHash(tableHref(pods, { ns: 'web', l: 'app=x' }));
  assert.equal(t.view, 'table');
  assert.equal(groupOf(t.parts[0]), '');
  assert.deepEqual(t.parts.slice(1), ['v1', 'pods']);
  assert.equal(t.query.get('l'), 'app=x');
  const d = parseHash(detailsHref({ group: 'apps', version: 'v1', resource: 'deployments' }, 'ns 1', 'web', 'logs'));
  assert.equal(d.view, 'details');
  assert.deepEqual([groupOf(d.parts[0]), ...d.parts.slice(1)], ['apps', 'v1', 'deployments', 'ns 1', 'web']);
  assert.equal(d.query.get('tab'), 'logs');
  assert.equal(parseHash(detailsHref({ group: '', version: 'v1', resource: 'nodes' }, undefined, 'n1')).parts[3], '_');
  assert.equal(parseHash('').view, 'overview');
  assert.equal(parseHash('#/map').view, 'map');
});
