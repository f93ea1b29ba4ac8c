import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestTarget } from './request-target.ts';

const parts = (url: string | undefined) => {
  const t = parseRequestTarget(url);
  return { segments: t.segments, path: t.path, query: t.query.toString(), rawPath: t.rawPath };
};

test('a plain path: segments as sent, the query parsed', () => {
  assert.deepEqual(parts('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n-1?fieldManager=kubectl&dryRun=All'), {
    segments: ['apis', 'coordination.k8s.io', 'v1', 'namespaces', 'kube-node-lease', 'leases', 'n-1'],
    path: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n-1', query: 'fieldManager=kubectl&dryRun=All',
    rawPath: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n-1',
  });
  assert.deepEqual(parts(undefined), { segments: [], path: '/', query: '', rawPath: '/' });
  assert.deepEqual(parts('/'), { segments: [], path: '/', query: '', rawPath: '/' });
});

test('escaped segments are decoded, each on its own (an escaped slash stays in its segment)', () => {
  const t = parseRequestTarget('/api/v1/namespaces/default/configmaps/a%2Fb%20c?x=%2F');
  assert.deepEqual(t.segments, ['api', 'v1', 'namespaces', 'default', 'configmaps', 'a/b c']);
  assert.equal(t.path, '/api/v1/namespaces/default/configmaps/a/b c');
  assert.equal(t.rawPath, '/api/v1/namespaces/default/configmaps/a%2Fb%20c');
  assert.equal(t.query.get('x'), '/');
});

test('a bad escape is a 400 naming the segment', () => {
  assert.throws(() => parseRequestTarget('/api/v1/namespaces/%zz'), (e: any) => e.http === 400 && /invalid URL escape in path segment "%zz"/.test(e.message));
  assert.throws(() => parseRequestTarget('/api/%E0%A4%A'), (e: any) => e.http === 400);
});

test('empty segments are dropped; a fragment ends the path and the query wherever it stands', () => {
  assert.deepEqual(parts('//api///v1/pods/'), { segments: ['api', 'v1', 'pods'], path: '/api/v1/pods', query: '', rawPath: '//api///v1/pods/' });
  assert.deepEqual(parts('/api/v1/pods?watch=1#frag'), { segments: ['api', 'v1', 'pods'], path: '/api/v1/pods', query: 'watch=1', rawPath: '/api/v1/pods' });
  assert.deepEqual(parts('/api/v1#frag?watch=1'), { segments: ['api', 'v1'], path: '/api/v1', query: 'watch=1', rawPath: '/api/v1' });
  assert.deepEqual(parts('#x'), { segments: [], path: '/', query: '', rawPath: '/' });
});

test('an absolute-form target counts by its path only', () => {
  assert.deepEqual(parts('https://127.0.0.1:6443/api/v1/pods?limit=5'), { segments: ['api', 'v1', 'pods'], path: '/api/v1/pods', query: 'limit=5', rawPath: '/api/v1/pods' });
  assert.deepEqual(parts('http://host'), { segments: [], path: '/', query: '', rawPath: '/' });
  // Not a scheme: a relative target is taken as a path.
  assert.deepEqual(parts('api/v1'), { segments: ['api', 'v1'], path: '/api/v1', query: '', rawPath: 'api/v1' });
});
