/**
 * Paging a list (limit/continue) under churn, against a real API server, as Kubernetes promises:
 * every page is read at the first page's resourceVersion, so the pages together are exactly the
 * collection at that revision — no duplicates and no misses — whatever is created or deleted
 * meanwhile (upstream: "Efficient detection of changes" / "Retrieving large results sets in chunks").
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from './api-server.fixture.ts';

let api: TestApiServer;
before(async () => { api = await startTestApiServer(); });
after(async () => { await api.close(); });

const PATH = '/api/v1/namespaces/default/configmaps';
const N = 2500;

async function create(name: string): Promise<void> {
  const r = await api.request('POST', PATH, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } } });
  assert.equal(r.status, 201, r.body);
}

describe('list pagination under churn', () => {
  it('limit=500 pages through everything at one revision: no duplicates, no misses, while objects come and go', { timeout: 300_000 }, async (t) => {
    for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => create(`base-${String(i + j).padStart(5, '0')}`)));
    // Churn: new objects everywhere in the key order and deletions of existing ones, until paging ends.
    let churning = true;
    let created = 0;
    let deleted = 0;
    const churn = (async () => {
      for (let k = 0; churning; k++) {
        await create(`base-${String(k * 7 % N).padStart(5, '0')}-new-${k}`);
        created++;
        const del = await api.request('DELETE', `${PATH}/base-${String((k * 13) % N).padStart(5, '0')}`);
        if (del.status === 200) deleted++;
      }
    })();
    const seen: string[] = [];
    let rv = '';
    let cont = '';
    let pages = 0;
    do {
      const r = await api.request('GET', `${PATH}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      assert.equal(r.status, 200, r.body);
      pages++;
      if (!rv) rv = r.json.metadata.resourceVersion;
      assert.equal(r.json.metadata.resourceVersion, rv, 'every page is read at the first page\'s resourceVersion');
      for (const item of r.json.items as Array<{ metadata: { name: string } }>) seen.push(item.metadata.name);
      cont = r.json.metadata.continue ?? '';
      if (cont) {
        assert.ok(r.json.items.length === 500, `a page short of the limit (${r.json.items.length}) with a continue token`);
        // Let the churn move on between pages.
        await new Promise((res) => setTimeout(res, 300));
      }
    } while (cont);
    churning = false;
    await churn;
    t.diagnostic(`${pages} pages, ${seen.length} items at resourceVersion ${rv}; meanwhile ${created} created, ${deleted} deleted`);
    assert.ok(created > 0 && deleted > 0, 'the churn did not run during the paging');
    assert.equal(new Set(seen).size, seen.length, 'duplicates across pages');
    assert.deepEqual(seen, [...seen].sort(), 'pages out of key order');
    // The same collection, read in one piece at that revision.
    const exact = await api.request('GET', `${PATH}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    assert.equal(exact.status, 200, exact.body);
    assert.deepEqual(seen, (exact.json.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name), 'the pages differ from the collection at their revision');
    const now = await api.request('GET', PATH);
    assert.notEqual(now.json.metadata.resourceVersion, rv, 'nothing changed after the first page');
  });
});

describe('remainingItemCount on a limited list', () => {
  it('follows continue in the List and in a Table, in ListMeta\'s field order; left out with a selector', async () => {
    const path = '/api/v1/namespaces/kube-public/configmaps';
    for (let i = 0; i < 30; i++) {
      const r = await api.request('POST', path, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `r-${String(i).padStart(2, '0')}` } } });
      assert.equal(r.status, 201, r.body);
    }
    const total = (await api.request('GET', path)).json.items.length as number;
    const page = await api.request('GET', `${path}?limit=7`);
    assert.deepEqual(Object.keys(page.json.metadata), ['resourceVersion', 'continue', 'remainingItemCount']);
    assert.equal(page.json.metadata.remainingItemCount, total - 7);
    const next = await api.request('GET', `${path}?limit=7&continue=${encodeURIComponent(page.json.metadata.continue)}`);
    assert.equal(next.json.metadata.remainingItemCount, total - 14);
    const last = await api.request('GET', `${path}?limit=${total}`);
    assert.deepEqual(Object.keys(last.json.metadata), ['resourceVersion'], 'no continue, no count');
    const table = await api.request('GET', `${path}?limit=7`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    assert.equal(table.json.kind, 'Table');
    assert.equal(table.json.metadata.remainingItemCount, total - 7);
    const selected = await api.request('GET', `${path}?limit=7&labelSelector=x!=y`);
    assert.ok(selected.json.metadata.continue);
    assert.equal(selected.json.metadata.remainingItemCount, undefined);
  });
});
