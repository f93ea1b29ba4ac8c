/**
 * One reproducer per class of issue 12 against a real API server: each answers a 4xx Status, the
 * server stays up, and a refused write leaves nothing behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRawResponse, startTestApiServer, type Reply, type TestApiServer } from './api-server.fixture.ts';
import { encodeObject } from '../registry/object-codec.ts';
import { AGENT_URL_ANNOTATION } from '../apis/well-known.ts';

let api: TestApiServer;
before(async () => { api = await startTestApiServer(); });
after(async () => { await api.close(); });

/** A 4xx answer with a Status body carrying `reason`. */
function assertStatus(r: { status: number; json: any }, code: number, reason: string): void {
  assert.equal(r.status, code, JSON.stringify(r.json));
  assert.equal(r.json?.kind, 'Status');
  assert.equal(r.json.reason, reason);
  assert.equal(r.json.code, code);
}

async function assertUp(): Promise<void> {
  assert.equal((await api.request('GET', '/healthz')).body, 'ok');
}

const upgrade = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
const SPDY = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n`;

describe('request targets', () => {
  it('a malformed %-escape in any path is a 400, for plain and Upgrade requests', async () => {
    for (const path of ['/api/v1/namespaces/default/pods/%zz', '/api/v1/namespaces/%E0%A4%A', '/apis/%/v1', '/version%', '/ui/%c0']) {
      assertStatus(parseRawResponse(await api.raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)), 400, 'BadRequest');
      assertStatus(parseRawResponse(await api.raw(upgrade(path))), 400, 'BadRequest');
      assertStatus(parseRawResponse(await api.raw(SPDY(path))), 400, 'BadRequest');
    }
    await assertUp();
  });

  it('a target starting with // is a path', async () => {
    assert.equal((await api.request('GET', '//api/v1/namespaces')).json.kind, 'NamespaceList');
    assertStatus(await api.request('GET', '//'), 404, 'NotFound');
    assertStatus(await api.request('GET', '//evil.example/version/x'), 404, 'NotFound');
    assertStatus(parseRawResponse(await api.raw(upgrade('//'))), 400, 'BadRequest');
    await assertUp();
  });
});

describe('pod streams to a node whose agent address is unusable', () => {
  const node = (name: string, extra: object) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, ...extra });
  it('refuses an agent URL annotation or a kubelet port the API server could not dial', async () => {
    for (const url of ['not a url', 'ftp://10.0.0.1:21', 'http://', 'http://user:pw@10.0.0.1:1', 'http://10.0.0.1:1/x?y', 'http://10.0.0.1:99999']) {
      const r = await api.request('POST', '/api/v1/nodes', { body: node('bad-url', { metadata: { name: 'bad-url', annotations: { [AGENT_URL_ANNOTATION]: url } } }) });
      assertStatus(r, 422, 'Invalid');
      assert.match(r.json.message, /metadata\.annotations\[berth\.dev\/agent-url\]/);
    }
    const port = await api.request('POST', '/api/v1/nodes', { body: node('bad-port', { status: { daemonEndpoints: { kubeletEndpoint: { Port: -1 } } } }) });
    assertStatus(port, 422, 'Invalid');
    assert.match(port.json.message, /status\.daemonEndpoints\.kubeletEndpoint\.Port/);
    assertStatus(await api.request('GET', '/api/v1/nodes/bad-url'), 404, 'NotFound');
    assert.equal((await api.request('POST', '/api/v1/nodes', { body: node('good', { metadata: { name: 'good', annotations: { [AGENT_URL_ANNOTATION]: 'http://[::1]:10250' } } }) })).status, 201);
  });

  it('answers an exec, attach or port-forward to such a node (stored before validation) with a Status', async () => {
    // Written past validation, as data from an older Berth would be.
    const bad = [
      { name: 'n-url', metadata: { annotations: { [AGENT_URL_ANNOTATION]: 'http://bad host:1' } } },
      { name: 'n-port', status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: -1 } } } },
    ];
    for (const b of bad) {
      const obj: any = { apiVersion: 'v1', kind: 'Node', ...b, metadata: { name: b.name, uid: b.name, ...(b.metadata ?? {}) } };
      delete obj.name;
      await api.registry.backend.create(`/registry/core/nodes/${b.name}`, encodeObject(obj));
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${b.name}` }, spec: { nodeName: b.name, containers: [{ name: 'c', image: 'host' }] } };
      assert.equal((await api.request('POST', '/api/v1/namespaces/default/pods', { body: pod })).status, 201);
      await api.registry.store('', 'pods')!.guaranteedUpdate('default', `p-${b.name}`, (p) => { p.status = { phase: 'Running' }; return p; }, { subresource: 'status' });
      for (const sub of ['exec?command=sh', 'attach', 'portforward']) {
        const path = `/api/v1/namespaces/default/pods/p-${b.name}/${sub}`;
        assertStatus(parseRawResponse(await api.raw(upgrade(path))), 503, 'ServiceUnavailable');
        assertStatus(parseRawResponse(await api.raw(SPDY(path))), 503, 'ServiceUnavailable');
      }
      assertStatus(await api.request('GET', `/api/v1/namespaces/default/pods/p-${b.name}/log`), 503, 'ServiceUnavailable');
    }
    await assertUp();
  });
});

export type { Reply };
