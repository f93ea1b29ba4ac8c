import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo as parseSegments } from './request-info.ts';

const parseRequestInfo = (method: string, path: string, query: URLSearchParams) => parseSegments(method, path.split('/').filter(Boolean), query);

const q = (s = '') => new URLSearchParams(s);

test('namespaced item with subresource', () => {
  assert.deepEqual(parseRequestInfo('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', q()), {
    group: 'apps', version: 'v1', namespace: 'default', resource: 'deployments', name: 'web', subresource: 'scale', verb: 'update',
  });
});

test('namespace object and its status', () => {
  assert.deepEqual(parseRequestInfo('GET', '/api/v1/namespaces/foo', q()), {
    group: '', version: 'v1', namespace: undefined, resource: 'namespaces', name: 'foo', subresource: undefined, verb: 'get',
  });
  const s = parseRequestInfo('PUT', '/api/v1/namespaces/foo/finalize', q())!;
  assert.equal(s.resource, 'namespaces');
  assert.equal(s.name, 'foo');
  assert.equal(s.subresource, 'finalize');
});

test('list, watch, deletecollection', () => {
  assert.equal(parseRequestInfo('GET', '/api/v1/pods', q())!.verb, 'list');
  assert.equal(parseRequestInfo('GET', '/api/v1/namespaces/a/pods', q('watch=true'))!.verb, 'watch');
  assert.equal(parseRequestInfo('GET', '/api/v1/watch/namespaces/a/pods', q())!.verb, 'watch');
  assert.equal(parseRequestInfo('DELETE', '/api/v1/namespaces/a/pods', q())!.verb, 'deletecollection');
  assert.equal(parseRequestInfo('GET', '/version', q()), undefined);
});
