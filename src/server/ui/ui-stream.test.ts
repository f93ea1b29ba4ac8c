import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import type { Client, ListOptions } from '../../client/client.ts';
import { errors } from '../../errors/index.ts';
import { FIRST_PAGE, PAGE, listInPages, parseStreamWatches } from './ui-stream.ts';

/** A list of `n` pods paged by offset; `expireAt`: the continue token of that page is gone (410). */
function fakeClient(n: number, expireAt?: number): { client: Client; calls: ListOptions[] } {
  const calls: ListOptions[] = [];
  const pods = Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'ns', managedFields: [{}] } }) as KubeObject);
  const client = {
    async list(_ref: unknown, _ns: unknown, opts: ListOptions = {}) {
      calls.push(opts);
      const from = opts.continue ? Number(opts.continue) : 0;
      if (opts.continue && from === expireAt) throw errors.gone('too old');
      const to = Math.min(n, from + (opts.limit ?? n));
      return { items: pods.slice(from, to), resourceVersion: '77', ...(to < n ? { continue: String(to) } : {}) };
    },
  } as unknown as Client;
  return { client, calls };
}

const watch = parseStreamWatches(['{"id":"rows","version":"v1","resource":"pods"}'])[0];

test('a LIST goes out in pages: a small first one, then larger ones, the last without "more"', async () => {
  const n = FIRST_PAGE + PAGE + 5;
  const { client, calls } = fakeClient(n);
  const sent: any[] = [];
  const rv = await listInPages(client, watch, (m) => { sent.push(m); }, () => false);
  assert.equal(rv, '77');
  assert.deepEqual(calls.map((c) => c.limit), [FIRST_PAGE, PAGE, PAGE]);
  assert.deepEqual(sent.map((m) => [m.page, m.items.length, m.more ?? false]), [[0, FIRST_PAGE, true], [1, PAGE, true], [2, 5, false]]);
  assert.equal(sent.flatMap((m) => m.items).length, n);
  assert.equal('managedFields' in sent[0].items[0].metadata, false, 'managedFields are not sent');
});

test('each page waits for the previous one to be written; a closed stream stops the list', async () => {
  const { client, calls } = fakeClient(FIRST_PAGE + 3 * PAGE);
  let release!: () => void;
  let closed = false;
  const p = listInPages(client, watch, () => new Promise<void>((r) => { release = r; }), () => closed);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls.length, 1, 'no second read before the first page left');
  release();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls.length, 2);
  closed = true;
  release();
  await p;
  assert.equal(calls.length, 2);
});

test('a continue token expired mid-list (410) makes the caller start over', async () => {
  const { client } = fakeClient(FIRST_PAGE + 2 * PAGE, FIRST_PAGE + PAGE);
  assert.equal(await listInPages(client, watch, () => {}, () => false), undefined);
});
