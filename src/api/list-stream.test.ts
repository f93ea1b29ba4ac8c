/**
 * Full lists stream (list-stream.ts): the same List as paging returns, chunked, with selectors and
 * resourceVersions honoured, a Status for errors before the first item, and a client that leaves
 * mid-list ending it without harm.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestApiServer, type TestApiServer } from './api-server.fixture.ts';

let api: TestApiServer;
before(async () => { api = await startTestApiServer(); });
after(async () => { await api.close(); });

const PATH = '/api/v1/namespaces/default/configmaps';
const N = 1234; // more than two store reads of a streamed list (500 rows each), not a multiple of it

describe('streamed full lists', () => {
  before(async () => {
    for (let i = 0; i < N; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, j) => api.request('POST', PATH, {
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `s-${String(i + j).padStart(5, '0')}`, labels: { odd: String((i + j) % 2 === 1) } }, data: { i: String(i + j) } },
      }).then((r) => assert.equal(r.status, 201))));
    }
  });

  it('sends the same List as paging does, chunked, without a Content-Length', async () => {
    const full = await api.request('GET', PATH);
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-length'], undefined);
    assert.equal(full.headers['transfer-encoding'], 'chunked');
    assert.equal(full.json.kind, 'ConfigMapList');
    assert.equal(full.json.apiVersion, 'v1');
    assert.deepEqual(Object.keys(full.json), ['kind', 'apiVersion', 'metadata', 'items']);
    const rv = full.json.metadata.resourceVersion as string;
    const paged: unknown[] = [];
    let cont = '';
    do {
      const r = await api.request('GET', `${PATH}?limit=300&resourceVersion=${rv}&resourceVersionMatch=Exact${cont ? `&continue=${cont}` : ''}`);
      paged.push(...r.json.items);
      cont = r.json.metadata.continue ?? '';
    } while (cont);
    assert.equal(full.json.items.length, N);
    assert.deepEqual(full.json.items, paged);
  });

  it('filters by label and reads at a given resourceVersion; an empty list is a valid List', async () => {
    const odd = await api.request('GET', `${PATH}?labelSelector=odd%3Dtrue`);
    assert.equal(odd.json.items.length, Math.floor(N / 2));
    assert.ok(odd.json.items.every((i: { metadata: { labels: { odd: string } } }) => i.metadata.labels.odd === 'true'));
    const none = await api.request('GET', `${PATH}?labelSelector=odd%3Dmaybe`);
    assert.deepEqual(none.json.items, []);
    const early = await api.request('GET', `${PATH}?resourceVersion=${Number(none.json.metadata.resourceVersion) - N + 10}&resourceVersionMatch=Exact`);
    assert.equal(early.json.items.length, 10);
  });

  it('an error before the first item is still a Status', async () => {
    const r = await api.request('GET', `${PATH}?resourceVersion=99999999&resourceVersionMatch=NotOlderThan`);
    assert.equal(r.json.kind, 'Status');
    assert.ok(r.status >= 400, String(r.status));
  });

  it('a client that goes away mid-list ends it; the server goes on serving', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${api.url}${PATH}`, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', (err) => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err); });
    });
    const again = await api.request('GET', PATH);
    assert.equal(again.json.items.length, N);
  });

  it('writes the items byte for byte as a page does, across write buffers: multi-byte text, an item larger than a buffer', async () => {
    const ns = 'bytes';
    assert.equal((await api.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } })).status, 201);
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    // ~1 MB in all (several 256 KB buffers), the 2- to 4-byte UTF-8 characters falling across their ends,
    // and one item of ~600 KB that no buffer holds.
    const text = (i: number, size: number): string => `é日本🚢-${i}-`.repeat(Math.ceil(size / 12)).slice(0, size);
    for (let i = 0; i < 40; i++) {
      const r = await api.request('POST', path, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `b-${String(i).padStart(3, '0')}`, annotations: { note: `ü${i}` } }, data: { t: text(i, 7_000 + 311 * i) } } });
      assert.equal(r.status, 201);
    }
    assert.equal((await api.request('POST', path, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b-big' }, data: { t: text(99, 200_000) } } })).status, 201);
    const full = await api.request('GET', path);
    assert.equal(full.status, 200);
    assert.equal(full.json.items.length, 41);
    const rv = full.json.metadata.resourceVersion as string;
    const page = await api.request('GET', `${path}?limit=1000&resourceVersion=${rv}&resourceVersionMatch=Exact`);
    const items = (body: string): string => body.slice(body.indexOf('"items":['));
    assert.ok(Buffer.byteLength(full.body) > 900_000, String(Buffer.byteLength(full.body)));
    assert.equal(items(full.body), items(page.body));
  });
});
