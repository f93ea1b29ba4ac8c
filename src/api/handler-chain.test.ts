import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errors } from '../errors/index.ts';
import type { RequestAttributes } from './access.ts';
import { parseRawResponse, startTestApiServer, type TestApiServer } from './api-server.fixture.ts';
import { RouteTable } from './route-table.ts';

describe('route table', () => {
  const h = () => {};
  it('matches exact paths, then the longest prefix', () => {
    const t = new RouteTable().add({ path: '/ui/', handle: h }).add({ path: '/ui/assets/', handle: h }).add({ path: '/version', handle: h });
    assert.equal(t.exactMatch('/version')?.path, '/version');
    assert.equal(t.exactMatch('/version/x'), undefined);
    assert.equal(t.prefixMatch('/ui/assets/app.js')?.path, '/ui/assets/');
    assert.equal(t.prefixMatch('/ui/index.html')?.path, '/ui/');
    assert.equal(t.prefixMatch('/ui')?.path, '/ui/');
    assert.equal(t.prefixMatch('/uix'), undefined);
    assert.deepEqual(t.paths(), ['/version', '/ui/assets/', '/ui/'].sort());
  });
  it('refuses a path registered twice', () => {
    assert.throws(() => new RouteTable().add({ path: '/a', handle: h }).add({ path: '/a', handle: h }), /twice/);
  });
});

describe('handler chain', () => {
  let api: TestApiServer;
  let assets: string;
  const seen: RequestAttributes[] = [];
  before(async () => {
    assets = await mkdtemp(join(tmpdir(), 'berth-ui-'));
    await mkdir(join(assets, 'site', 'css'), { recursive: true });
    await writeFile(join(assets, 'site', 'index.html'), '<h1>berth</h1>');
    await writeFile(join(assets, 'site', 'app.js'), 'console.log(1)');
    await writeFile(join(assets, 'site', 'css', 'a.css'), 'h1{}');
    await writeFile(join(assets, 'site', 'blob.bin'), Buffer.from([1, 2, 3]));
    await writeFile(join(assets, 'secret.txt'), 'do not serve');
    await symlink(join(assets, 'secret.txt'), join(assets, 'site', 'link.txt'));
    api = await startTestApiServer({
      staticAssets: [{ prefix: '/ui/', dir: join(assets, 'site') }],
      authenticate: (req) => {
        if (req.headers.authorization === 'Bearer bad') throw errors.unauthorized();
        return { name: req.headers.authorization ? 'alice' : 'system:anonymous', groups: [] };
      },
      authorize: {
        authorize: (a) => {
          seen.push(a);
          if (a.user.name === 'alice' && (a.verb === 'delete' || a.subresource === 'exec' || a.path === '/ui/app.js')) return 'deny';
          if (a.user.name === 'alice' && a.verb === 'deletecollection') return 'no-opinion';
          return 'allow';
        },
      },
    });
  });
  after(async () => { await api.close(); await rm(assets, { recursive: true, force: true }); });

  it('serves the meta paths as before', async () => {
    assert.equal((await api.request('GET', '/version')).json.major, '1');
    assert.equal((await api.request('GET', '/healthz')).body, 'ok');
    assert.equal((await api.request('GET', '/readyz')).body, 'ok');
    assert.equal((await api.request('GET', '/api')).json.kind, 'APIVersions');
    assert.equal((await api.request('GET', '/api/')).json.kind, 'APIVersions');
    assert.equal((await api.request('GET', '/apis')).json.kind, 'APIGroupList');
    assert.equal((await api.request('GET', '/api/v1')).json.groupVersion, 'v1');
    assert.equal((await api.request('GET', '/apis/apps')).json.kind, 'APIGroup');
    assert.equal((await api.request('GET', '/apis/apps/v1/')).json.groupVersion, 'apps/v1');
    assert.equal((await api.request('GET', '/apis/nope/v1')).status, 404);
    assert.equal((await api.request('GET', '/openapi/v3')).json.paths['api/v1'] !== undefined, true);
    const doc = await api.request('GET', '/openapi/v3/apis/apps/v1');
    assert.equal(doc.status, 200);
    assert.ok(doc.headers.etag);
    assert.equal((await api.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).json.kind, 'CustomResourceDefinitionList');
    const proto = await api.request('GET', '/openapi/v2', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    assert.match(String(proto.headers['content-type']), /protobuf/);
  });

  it('answers unknown paths with 404 and wrong methods with 405, as Statuses', async () => {
    const nf = await api.request('GET', '/nope');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.kind, 'Status');
    const na = await api.request('POST', '/version', { body: {} });
    assert.equal(na.status, 405);
    assert.equal(na.json.reason, 'MethodNotAllowed');
    assert.equal(na.json.message, 'the server does not allow this method on the requested resource');
  });

  it('runs resource requests with the authorizer seeing Kubernetes attributes', async () => {
    seen.length = 0;
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { a: 'b' } };
    assert.equal((await api.request('POST', '/api/v1/namespaces/default/configmaps', { body: cm })).status, 201);
    assert.equal((await api.request('GET', '/api/v1/namespaces/default/configmaps/c1')).json.data.a, 'b');
    assert.deepEqual(seen[0], {
      user: { name: 'system:anonymous', groups: [] }, verb: 'create', isResourceRequest: true, path: '/api/v1/namespaces/default/configmaps',
      apiGroup: '', apiVersion: 'v1', resource: 'configmaps', subresource: '', namespace: 'default', name: '',
    });
    assert.equal(seen[1].verb, 'get');
    assert.equal(seen[1].name, 'c1');
    await api.request('GET', '/healthz');
    assert.equal(seen[2].isResourceRequest, false);
    assert.equal(seen[2].verb, 'get');
    assert.equal(seen[2].path, '/healthz');
  });

  it('refuses what the authorizer denies with a 403 and what the authenticator rejects with a 401', async () => {
    const denied = await api.request('DELETE', '/api/v1/namespaces/default/configmaps/c1', { headers: { authorization: 'Bearer alice' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.reason, 'Forbidden');
    assert.equal(denied.json.message, 'configmaps "c1" is forbidden: User "alice" cannot delete resource "configmaps" in API group "" in the namespace "default"');
    assert.equal((await api.request('DELETE', '/api/v1/namespaces/default/configmaps', { headers: { authorization: 'Bearer alice' } })).status, 403, 'no opinion is no');
    assert.equal((await api.request('GET', '/api/v1/namespaces/default/configmaps/c1')).status, 200, 'not deleted');
    const unauth = await api.request('GET', '/api/v1/namespaces/default/configmaps', { headers: { authorization: 'Bearer bad' } });
    assert.equal(unauth.status, 401);
    assert.equal(unauth.json.reason, 'Unauthorized');
  });

  it('passes Upgrade requests through the same filters', async () => {
    seen.length = 0;
    const upgrade = (auth: string) => api.raw(`GET /api/v1/namespaces/default/pods/p/exec?command=sh HTTP/1.1\r\nHost: x\r\n${auth}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    const denied = parseRawResponse(await upgrade('Authorization: Bearer alice\r\n'));
    assert.equal(denied.status, 403);
    assert.match(denied.json.message, /User "alice" cannot get resource "pods\/exec"/);
    assert.equal(seen[0].subresource, 'exec');
    const unauth = parseRawResponse(await upgrade('Authorization: Bearer bad\r\n'));
    assert.equal(unauth.status, 401);
    const missing = parseRawResponse(await upgrade(''));
    assert.equal(missing.status, 404, 'allowed through, then the pod is not found');
    assert.equal(missing.json.reason, 'NotFound');
  });

  it('serves static assets with content types and nothing outside their directory', async () => {
    const index = await api.request('GET', '/ui/');
    assert.equal(index.status, 200);
    assert.equal(index.body, '<h1>berth</h1>');
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal((await api.request('GET', '/ui')).body, '<h1>berth</h1>');
    const css = await api.request('GET', '/ui/css/a.css');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(css.headers['x-content-type-options'], 'nosniff');
    assert.equal((await api.request('GET', '/ui/blob.bin')).headers['content-type'], 'application/octet-stream');
    const head = await api.request('HEAD', '/ui/css/a.css');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '4');
    assert.equal(head.body, '');
    assert.equal((await api.request('POST', '/ui/css/a.css', { body: {} })).status, 405);
    for (const p of ['/ui/../secret.txt', '/ui/%2e%2e/secret.txt', '/ui/css/..%2f..%2fsecret.txt', '/ui/%2e%2e%2fsecret.txt', '/ui/link.txt', '/ui/nope.js', '/ui/css/%00']) {
      const r = parseRawResponse(await api.raw(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      assert.equal(r.status, 404, p);
      assert.equal(r.json.kind, 'Status', p);
    }
    assert.equal((await api.request('GET', '/ui/app.js', { headers: { authorization: 'Bearer alice' } })).status, 403, 'assets are authorized too');
  });
});
