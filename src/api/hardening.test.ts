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

const POD = (name: string, extra: object = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'host' }] }, ...extra });
const CM = (name: string, extra: object = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' }, ...extra });
const PATCH_TYPES = { merge: 'application/merge-patch+json', json: 'application/json-patch+json', strategic: 'application/strategic-merge-patch+json' };
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

async function stored(path: string): Promise<Reply> {
  return api.request('GET', path);
}

describe('bodies nested too deep', () => {
  before(async () => { assert.equal((await api.request('POST', '/api/v1/namespaces/default/configmaps', { body: CM('deep') })).status, 201); });
  it('a PATCH of each type nesting 10,000 levels is a 400 and changes nothing', async () => {
    const before = (await stored('/api/v1/namespaces/default/configmaps/deep')).json;
    const bodies = {
      merge: `{"metadata":{"annotations":null},"x":${nested(10_000)}}`,
      strategic: `{"metadata":{"annotations":null},"x":${nested(10_000)}}`,
      json: `[{"op":"add","path":"/x","value":${nested(10_000)}}]`,
    };
    for (const [t, body] of Object.entries(bodies)) {
      const r = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/deep', { body, headers: { 'content-type': PATCH_TYPES[t as 'merge'] } });
      assertStatus(r, 400, 'BadRequest');
      assert.match(r.json.message, /exceeded max depth/);
    }
    assert.deepEqual((await stored('/api/v1/namespaces/default/configmaps/deep')).json, before);
    assertStatus(await api.request('POST', '/api/v1/namespaces/default/configmaps', { body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep2"},"x":${nested(5000)}}` }), 400, 'BadRequest');
    assertStatus(await api.request('POST', '/api/v1/namespaces/default/configmaps', { body: `${'['.repeat(200)}${']'.repeat(200)}` }), 400, 'BadRequest');
    assertStatus(await stored('/api/v1/namespaces/default/configmaps/deep2'), 404, 'NotFound');
    // YAML bodies are checked the same way.
    assertStatus(await api.request('POST', '/api/v1/namespaces/default/configmaps', { body: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep3}\nx: ${nested(150)}\n`, headers: { 'content-type': 'application/yaml' } }), 400, 'BadRequest');
    await assertUp();
  });
  it('the depth a real object needs passes', async () => {
    const r = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/deep', { body: { metadata: { labels: { a: 'b' } } }, headers: { 'content-type': PATCH_TYPES.merge } });
    assert.equal(r.status, 200);
  });
});

describe('integer query values', () => {
  it('limit past int64 is a 400 with the parameter decoder\'s words; any int64 works', async () => {
    for (const v of ['9223372036854775808', '99999999999999999999999', '-9223372036854775809']) {
      const r = await api.request('GET', `/api/v1/namespaces?limit=${v}`);
      assertStatus(r, 400, 'BadRequest');
      assert.equal(r.json.message, `strconv.ParseInt: parsing "${v}": value out of range`);
    }
    assertStatus(await api.request('GET', '/api/v1/namespaces?limit=1e3'), 400, 'BadRequest');
    for (const v of ['9223372036854775807', '4611686018427387904', '-5', '0']) {
      const r = await api.request('GET', `/api/v1/namespaces?limit=${v}`);
      assert.equal(r.status, 200, v);
      assert.equal(r.json.items.length, 4, v);
    }
    assert.equal((await api.request('GET', '/api/v1/namespaces?limit=2')).json.items.length, 2);
    assertStatus(await api.request('GET', '/api/v1/namespaces?watch=true&timeoutSeconds=9223372036854775808'), 400, 'BadRequest');
    assertStatus(await api.request('DELETE', '/api/v1/namespaces/default/configmaps/deep?gracePeriodSeconds=9223372036854775808'), 400, 'BadRequest');
  });
});

describe('unknown fields outside Latin-1', () => {
  it('warns with a header kubectl can read, and only a successful write is stored', async () => {
    const body = CM('unicode', { spec: { 'ключ😀': 1 }, '名前': 'x' });
    const r = await api.request('POST', '/api/v1/namespaces/default/configmaps', { body });
    assert.equal(r.status, 201);
    assert.deepEqual(r.warnings.sort(), ['299 - "unknown field \\"spec\\""', '299 - "unknown field \\"名前\\""'].sort());
    assert.equal((await stored('/api/v1/namespaces/default/configmaps/unicode')).status, 200);
    const strict = await api.request('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', { body: CM('unicode2', { 'поле': 1 }) });
    assertStatus(strict, 400, 'BadRequest');
    assertStatus(await stored('/api/v1/namespaces/default/configmaps/unicode2'), 404, 'NotFound');
    const patched = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/unicode', { body: { 'δ': { 'ε': 1 } }, headers: { 'content-type': PATCH_TYPES.merge } });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.warnings, ['299 - "unknown field \\"δ\\""']);
  });
  it('drops warnings with control characters and bounds the total', async () => {
    const many: Record<string, number> = { 'a\nb': 1 };
    for (let i = 0; i < 2000; i++) many[`field${i}_${'x'.repeat(200)}`] = i;
    const r = await api.request('POST', '/api/v1/namespaces/default/configmaps', { body: CM('many', many) });
    assert.equal(r.status, 201);
    const w = r.warnings;
    assert.ok(w.length > 0 && w.join('').length <= 4096, String(w.join('').length));
    assert.ok(!w.some((x) => x.includes('a\\nb') || x.includes('a\nb')));
  });
});

describe('bodies that are not objects', () => {
  before(async () => {
    assert.equal((await api.request('POST', '/api/v1/namespaces/default/pods', { body: POD('target') })).status, 201);
  });
  it('a null (or array, or scalar) body for binding or eviction is a 400 and binds or evicts nothing', async () => {
    for (const body of ['null', '[]', '3', '"x"']) {
      for (const sub of ['binding', 'eviction']) {
        assertStatus(await api.request('POST', `/api/v1/namespaces/default/pods/target/${sub}`, { body }), 400, 'BadRequest');
      }
      assertStatus(await api.request('POST', '/api/v1/namespaces/default/configmaps', { body }), 400, 'BadRequest');
      assertStatus(await api.request('DELETE', '/api/v1/namespaces/default/pods/target', { body }), 400, 'BadRequest');
    }
    const pod = (await stored('/api/v1/namespaces/default/pods/target')).json;
    assert.equal(pod.spec.nodeName, undefined);
    assert.equal(pod.metadata.deletionTimestamp, undefined);
  });
  it('a DeleteOptions of wrong types is a 400', async () => {
    for (const body of [{ gracePeriodSeconds: 'soon' }, { dryRun: 'All' }, { preconditions: 3 }, { propagationPolicy: 7 }]) {
      assertStatus(await api.request('DELETE', '/api/v1/namespaces/default/pods/target', { body }), 400, 'BadRequest');
    }
    assertStatus(await api.request('DELETE', '/api/v1/namespaces/default/pods/target', { body: { dryRun: ['Some'] } }), 422, 'Invalid');
    assert.equal((await stored('/api/v1/namespaces/default/pods/target')).json.metadata.deletionTimestamp, undefined);
  });
});

describe('null list items', () => {
  it('null inside metadata.finalizers is an empty finalizer: 422, nothing stored', async () => {
    const r = await api.request('POST', '/api/v1/namespaces/default/configmaps', { body: CM('fin', { metadata: { name: 'fin', finalizers: [null] } }) });
    assertStatus(r, 422, 'Invalid');
    assert.match(r.json.message, /metadata\.finalizers/);
    assertStatus(await stored('/api/v1/namespaces/default/configmaps/fin'), 404, 'NotFound');
    assert.equal((await api.request('POST', '/api/v1/namespaces/default/configmaps', { body: CM('fin') })).status, 201);
    for (const [t, body] of [['merge', { metadata: { finalizers: [null, 'a/b'] } }], ['strategic', { metadata: { finalizers: [null] } }], ['json', [{ op: 'add', path: '/metadata/finalizers', value: [null] }]]] as const) {
      assertStatus(await api.request('PATCH', '/api/v1/namespaces/default/configmaps/fin', { body, headers: { 'content-type': PATCH_TYPES[t] } }), 422, 'Invalid');
    }
    assert.equal((await stored('/api/v1/namespaces/default/configmaps/fin')).json.metadata.finalizers, undefined);
    assertStatus(await api.request('POST', '/api/v1/namespaces/default/pods', { body: POD('nullc', { spec: { containers: [null] } }) }), 422, 'Invalid');
    // A null map value is the value type's zero value too, as Go decodes it.
    const labelled = await api.request('POST', '/api/v1/namespaces/default/pods', { body: POD('nulll', { metadata: { name: 'nulll', labels: { a: null } } }) });
    assert.equal(labelled.status, 201);
    assert.deepEqual(labelled.json.metadata.labels, { a: '' });
  });
});

describe('system namespaces and collection deletes', () => {
  it('default, kube-system and kube-public cannot be deleted, dry run or not', async () => {
    for (const ns of ['kube-system', 'default', 'kube-public']) {
      for (const q of ['', '?dryRun=All']) {
        const r = await api.request('DELETE', `/api/v1/namespaces/${ns}${q}`);
        assertStatus(r, 403, 'Forbidden');
        assert.equal(r.json.message, `namespaces "${ns}" is forbidden: this namespace may not be deleted`);
        assert.deepEqual(r.json.details, { name: ns, kind: 'namespaces' });
      }
      const obj = (await stored(`/api/v1/namespaces/${ns}`)).json;
      assert.equal(obj.metadata.deletionTimestamp, undefined);
      assert.equal(obj.status.phase, 'Active');
    }
  });
  it('a namespace collection delete is not offered: 405, and discovery does not list it', async () => {
    for (const q of ['', '?labelSelector=x%3Dy', '?dryRun=All']) {
      const r = await api.request('DELETE', `/api/v1/namespaces${q}`);
      assertStatus(r, 405, 'MethodNotAllowed');
      assert.equal(r.json.message, 'the server does not allow this method on the requested resource');
    }
    assert.equal((await api.request('GET', '/api/v1/namespaces')).json.items.length, 4);
    const resources = (await api.request('GET', '/api/v1')).json.resources as { name: string; verbs: string[] }[];
    assert.ok(!resources.find((r) => r.name === 'namespaces')!.verbs.includes('deletecollection'));
    assert.ok(resources.find((r) => r.name === 'pods')!.verbs.includes('deletecollection'));
  });
});

describe('dryRun on every write path', () => {
  const ns = '/api/v1/namespaces/default';
  before(async () => {
    assert.equal((await api.request('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } })).status, 201);
    assert.equal((await api.request('POST', `${ns}/pods`, { body: POD('bound', { spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'host' }] } }) })).status, 201);
    assert.equal((await api.request('POST', `${ns}/pods`, { body: POD('unbound') })).status, 201);
    assert.equal((await api.request('POST', `${ns}/configmaps`, { body: CM('dry') })).status, 201);
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'host' }] } } } };
    assert.equal((await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', { body: dep })).status, 201);
    assert.equal((await api.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dry-ns' } } })).status, 201);
  });

  it('an eviction asked as a dry run, in its deleteOptions or the query, evicts nothing', async () => {
    const eviction = (dryRun?: string[]) => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'bound', namespace: 'default' }, ...(dryRun ? { deleteOptions: { dryRun } } : {}) });
    const before = (await stored(`${ns}/pods/bound`)).json;
    for (const [body, q] of [[eviction(['All']), ''], [eviction(), '?dryRun=All'], [eviction(['All']), '?dryRun=All']] as const) {
      const r = await api.request('POST', `${ns}/pods/bound/eviction${q}`, { body });
      assert.equal(r.status, 201, r.body);
      assert.equal(r.json.status, 'Success');
    }
    assert.deepEqual((await stored(`${ns}/pods/bound`)).json, before);
    assertStatus(await api.request('POST', `${ns}/pods/bound/eviction`, { body: { ...eviction(), metadata: { name: 'other' } } }), 400, 'BadRequest');
    // Without dry run the eviction really deletes (gracefully: the pod is bound).
    assert.equal((await api.request('POST', `${ns}/pods/bound/eviction`, { body: eviction() })).status, 201);
    assert.ok((await stored(`${ns}/pods/bound`)).json.metadata.deletionTimestamp);
  });

  it('no other write stores anything with dryRun=All', async () => {
    const snapshot = async () => JSON.stringify(await Promise.all([
      `${ns}/pods/unbound`, `${ns}/configmaps/dry`, '/apis/apps/v1/namespaces/default/deployments/d', '/api/v1/namespaces/dry-ns', `${ns}/configmaps/dry-new`,
    ].map(async (p) => (await stored(p)).json)));
    const before = await snapshot();
    const merge = { 'content-type': PATCH_TYPES.merge };
    const writes: [string, string, unknown, Record<string, string>?][] = [
      ['POST', `${ns}/configmaps`, CM('dry-new')],
      ['PUT', `${ns}/configmaps/dry`, CM('dry', { data: { a: 'changed' } })],
      ['PATCH', `${ns}/configmaps/dry`, { data: { a: 'patched' } }, merge],
      ['PATCH', `${ns}/pods/unbound/status`, { status: { phase: 'Running' } }, merge],
      ['PUT', '/apis/apps/v1/namespaces/default/deployments/d/scale', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 5 } }],
      ['PATCH', '/apis/apps/v1/namespaces/default/deployments/d/scale', { spec: { replicas: 7 } }, merge],
      ['POST', `${ns}/pods/unbound/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'n1' } }],
      ['PUT', '/api/v1/namespaces/dry-ns/finalize', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dry-ns' }, spec: { finalizers: [] } }],
      ['DELETE', `${ns}/configmaps/dry`, undefined],
      ['DELETE', `${ns}/configmaps`, undefined],
      ['DELETE', '/api/v1/namespaces/dry-ns', undefined],
    ];
    for (const [method, path, body, headers] of writes) {
      const r = await api.request(method, `${path}?dryRun=All`, { body: body as object, headers });
      assert.ok(r.status < 300, `${method} ${path}: ${r.body}`);
    }
    assert.equal(await snapshot(), before);
  });
});

describe('methods a route does not have', () => {
  it('PUT or PATCH on a collection and POST on an object are 405s', async () => {
    for (const [method, path] of [['PUT', '/api/v1/namespaces/default/configmaps?limit=9223372036854775807'], ['PATCH', '/api/v1/namespaces/default/configmaps'], ['PUT', '/api/v1/nodes'], ['POST', '/api/v1/namespaces/default/configmaps/deep']]) {
      const r = await api.request(method, path, { body: CM('x'), headers: method === 'PATCH' ? { 'content-type': PATCH_TYPES.merge } : {} });
      assertStatus(r, 405, 'MethodNotAllowed');
      assert.equal(r.json.message, 'the server does not allow this method on the requested resource');
    }
    assert.equal(api.logs.filter((l) => l.includes('internal error')).length, 0);
  });
});

describe('PersistentVolume and PersistentVolumeClaim names', () => {
  it('must be DNS subdomains: 422, nothing stored', async () => {
    const pv = (name: string) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/x' } } });
    const pvc = (name: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    for (const name of ['a\nb', 'x'.repeat(300_000), 'Upper', 'sp ace', 'a/b']) {
      assertStatus(await api.request('POST', '/api/v1/persistentvolumes', { body: pv(name) }), 422, 'Invalid');
      assertStatus(await api.request('POST', '/api/v1/namespaces/default/persistentvolumeclaims', { body: pvc(name) }), 422, 'Invalid');
    }
    assert.equal((await api.request('GET', '/api/v1/persistentvolumes')).json.items.length, 0);
    assert.equal((await api.request('GET', '/api/v1/persistentvolumeclaims')).json.items.length, 0);
    assert.equal((await api.request('POST', '/api/v1/persistentvolumes', { body: pv('pv-1.a') })).status, 201);
  });
  it('no name is so long its object could not be addressed by URL (core Events check no name format)', async () => {
    const ev = (name: string) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'R', message: 'm' });
    const r = await api.request('POST', '/api/v1/namespaces/default/events', { body: ev('x'.repeat(70_000)) });
    assertStatus(r, 400, 'BadRequest');
    assert.match(r.json.message, /may not be longer than 4096 bytes/);
    assert.equal((await api.request('POST', '/api/v1/namespaces/default/events', { body: ev('y'.repeat(4096)) })).status, 201);
    assert.equal((await api.request('GET', `/api/v1/namespaces/default/events/${'y'.repeat(4096)}`)).status, 200);
  });
  it('any kind\'s name is one path segment (core Events check no name format)', async () => {
    const ev = (name: string) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'R', message: 'm' });
    const r = await api.request('POST', '/api/v1/namespaces/default/events', { body: ev('a/b') });
    assertStatus(r, 400, 'BadRequest');
    assert.equal(r.json.message, 'Name parameter invalid: "a/b": may not contain \'/\'');
    assert.equal((await api.request('POST', '/api/v1/namespaces/default/events', { body: ev('Odd Name') })).status, 201);
  });
});

describe('request limits', () => {
  let small: TestApiServer;
  before(async () => {
    small = await startTestApiServer({ limits: { requestTimeoutMs: 1000, headersTimeoutMs: 1000, timeoutCheckIntervalMs: 200, maxHeaderBytes: 2048, maxWatchesPerClient: 2 } });
  });
  after(async () => { await small.close(); });

  it('a client trickling its body is cut off with a 408 Status, and nothing is stored', async () => {
    const body = JSON.stringify(CM('trickle'));
    const started = Date.now();
    const res = await small.raw(`POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`, 5000);
    assertStatus(parseRawResponse(res), 408, 'Timeout');
    assert.ok(Date.now() - started < 4000);
    assertStatus(await small.request('GET', '/api/v1/namespaces/default/configmaps/trickle'), 404, 'NotFound');
  });

  it('headers past the limit are a 431 Status; bodies past 3 MiB a 413', async () => {
    const big = parseRawResponse(await small.raw(`GET /version HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`));
    assert.equal(big.status, 431);
    assert.equal(big.json.kind, 'Status');
    const huge = JSON.stringify(CM('huge', { data: { a: 'x'.repeat(3 * 1024 * 1024) } }));
    const r = await small.request('POST', '/api/v1/namespaces/default/configmaps', { body: huge });
    assertStatus(r, 413, 'RequestEntityTooLarge');
    assert.equal(r.json.message, 'Request entity too large: limit is 3145728');
    assertStatus(await small.request('GET', '/api/v1/namespaces/default/configmaps/huge'), 404, 'NotFound');
  });

  it('a client past its concurrent watches gets 429 with Retry-After until one ends', async () => {
    const http = await import('node:http');
    const open = () => new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      http.get(`${small.url}/api/v1/namespaces/default/configmaps?watch=true`, resolve).on('error', reject);
    });
    const a = await open();
    const b = await open();
    assert.equal(a.statusCode, 200);
    assert.equal(b.statusCode, 200);
    const third = await small.request('GET', '/api/v1/namespaces/default/configmaps?watch=true');
    assertStatus(third, 429, 'TooManyRequests');
    assert.equal(third.headers['retry-after'], '1');
    assert.equal((await small.request('GET', '/api/v1/namespaces/default/configmaps')).status, 200, 'lists are not counted');
    a.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const c = await open();
    assert.equal(c.statusCode, 200);
    b.destroy();
    c.destroy();
  });
});
