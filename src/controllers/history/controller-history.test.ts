import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { maxRevision, newRevision, templateHash } from './controller-history.ts';

test('template hash is stable under key order and changes with the template or collisions', () => {
  const a = templateHash({ metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  const b = templateHash({ spec: { containers: [{ image: 'x', name: 'c' }] }, metadata: { labels: { a: '1' } } });
  assert.equal(a, b);
  assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.notEqual(a, templateHash({ spec: { containers: [{ name: 'c', image: 'y' }] } }));
  assert.notEqual(a, templateHash({ metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }, 1));
});

test('revision object and numbering', () => {
  const ds = { metadata: { name: 'd', namespace: 'ns' }, spec: { template: { metadata: { labels: { app: 'd' } } } } } as KubeObject;
  const r = newRevision(ds, 'h', 3, { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'u', controller: true });
  assert.equal(r.metadata.name, 'd-h');
  assert.equal(r.metadata.labels?.['controller-revision-hash'], 'h');
  assert.equal(maxRevision([r, { ...r, revision: 7 } as KubeObject]), 7);
});
