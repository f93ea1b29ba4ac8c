/**
 * Watchers that misbehave, against a real API server: one that never reads is cut off once its
 * buffer passes the bound (its connection closed, so the client re-lists) while a reading watcher
 * gets every event; 1,000 watches opened and dropped in a loop leave no watch behind and memory flat.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { EventEmitter } from 'node:events';
import { startTestApiServer, type TestApiServer } from './api-server.fixture.ts';
import { openWatchStream } from './watch-stream.ts';
import type { ApiWatchEvent } from '../registry/store-watch.ts';
import type { SqliteBackend } from '../storage/sqlite/index.ts';

let api: TestApiServer;
let hub: () => number;
before(async () => {
  api = await startTestApiServer();
  const backend = api.registry.backend as SqliteBackend;
  hub = () => backend.watchCount();
});
after(async () => { await api.close(); });

const PATH = '/api/v1/namespaces/default/configmaps';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a watch; resolves once the server answered with its headers. */
function openWatch(query = ''): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${api.url}${PATH}?watch=true${query}`, { agent: false }, (res) => resolve({ req, res }));
    req.on('error', reject);
  });
}

async function until(test: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('watchers that misbehave', () => {
  it('a watcher that never reads is cut off; a reading watcher gets every event', { timeout: 180_000 }, async (t) => {
    const base = hub();
    const slow = await openWatch();
    slow.res.pause(); // never reads: the socket fills, then the server's buffer
    let slowEnded = false;
    slow.res.on('close', () => { slowEnded = true; });
    slow.req.on('close', () => { slowEnded = true; });
    const reader = await openWatch();
    let buf = '';
    let seen = 0;
    reader.res.setEncoding('utf8');
    reader.res.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) { buf = buf.slice(nl + 1); seen++; }
    });
    await until(() => hub() === base + 2, 'two watches');
    // 40 MB of events: well past the 16 MiB a watcher may have queued plus the sockets' buffers.
    const N = 400;
    const value = 'x'.repeat(100 * 1024);
    for (let i = 0; i < N; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => api.request('POST', PATH, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${i + j}` }, data: { v: value } } })
        .then((r) => assert.equal(r.status, 201))));
    }
    await until(() => seen >= N, `the reading watcher's ${N} events (has ${seen})`, 60_000);
    await until(() => hub() === base + 1, 'the slow watch to be dropped');
    t.diagnostic(`reader saw ${seen} events; the slow watcher was dropped`);
    // What the slow one got before the cut is bounded: resume it and count.
    let got = 0;
    slow.res.on('data', (d: Buffer) => { got += d.length; });
    slow.res.resume();
    await until(() => slowEnded, 'the slow connection to end');
    t.diagnostic(`the slow watcher had ${(got / 1048576).toFixed(1)} MB of ${(N * value.length / 1048576).toFixed(0)} MB when cut`);
    assert.ok(got < N * value.length, `the slow watcher got ${got} bytes, i.e. everything`);
    reader.req.destroy();
    await until(() => hub() === base, 'no watch left');
  });

  it('1,000 watches opened and dropped in a loop leave no watch behind and memory flat; a live watcher is unaffected', { timeout: 180_000 }, async (t) => {
    const base = hub();
    // From the current resourceVersion: no initial events (the first test left 40 MB of ConfigMaps).
    const rv = (await api.request('GET', `${PATH}?limit=1`)).json.metadata.resourceVersion as string;
    const live = await openWatch(`&resourceVersion=${rv}`);
    let liveEvents = 0;
    live.res.on('data', (d: Buffer) => { for (const c of d) if (c === 10) liveEvents++; });
    await until(() => hub() === base + 1, `the live watch (hub ${hub()}, base ${base})`);
    const rssBefore = process.memoryUsage().rss;
    let opened = 0;
    for (let round = 0; round < 20; round++) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => openWatch(`&resourceVersion=${rv}`)));
      opened += batch.length;
      // A write while they are open: each has an event queued when it is dropped.
      assert.equal((await api.request('POST', PATH, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `churn-${round}` } } })).status, 201);
      for (const w of batch) w.req.destroy();
    }
    await until(() => hub() === base + 1, `watches to be freed (open: ${hub() - base})`);
    await until(() => liveEvents >= 20, `the live watcher's 20 events (has ${liveEvents})`);
    const grown = process.memoryUsage().rss - rssBefore;
    t.diagnostic(`${opened} watches opened and dropped; hub back to ${hub() - base} extra; RSS +${(grown / 1048576).toFixed(1)} MB`);
    assert.equal(opened, 1000);
    assert.ok(grown < 64 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(0)} MB`);
    live.req.destroy();
    await until(() => hub() === base, 'no watch left');
  });
});

describe('a watch over a large state', () => {
  it('sends every initial event of a state larger than the buffer bound to a reading client', { timeout: 120_000 }, async () => {
    // The first suite left 400 ConfigMaps of 100 KiB (40 MB, over the 16 MiB bound) in default.
    const total = (await api.request('GET', PATH)).json.items.length as number;
    assert.ok(total >= 400, `only ${total} ConfigMaps`);
    const w = await openWatch();
    let lines = 0;
    let ended = false;
    w.res.on('data', (d: Buffer) => { for (const c of d) if (c === 10) lines++; });
    w.res.on('close', () => { ended = true; });
    await until(() => lines >= total || ended, `${total} initial events (has ${lines})`, 60_000);
    assert.equal(ended, false, `the watch was cut after ${lines} of ${total} initial events`);
    assert.equal(lines, total);
    w.req.destroy();
  });
});

describe('the watch writer', () => {
  /** A response that records its writes (what openWatchStream calls of a ServerResponse). */
  function fakeResponse() {
    const res = Object.assign(new EventEmitter(), {
      writes: [] as string[], ended: false, writableLength: 0,
      writeHead() { return res; }, flushHeaders() {},
      write(s: string) { res.writes.push(s); return true; },
      end() { res.ended = true; },
    });
    return res;
  }
  const ev = (n: number) => ({ type: 'ADDED', n }) as unknown as ApiWatchEvent;

  it('writes the events of one tick as one chunk, flushes before attach and before the end', async () => {
    const res = fakeResponse();
    const stream = openWatchStream(new EventEmitter() as any, res as any, (e) => JSON.stringify(e));
    stream.send(ev(1));
    stream.send(ev(2));
    assert.deepEqual(res.writes, [], 'nothing written within the tick');
    stream.attach({ close() {} } as any);
    assert.deepEqual(res.writes, ['{"type":"ADDED","n":1}\n{"type":"ADDED","n":2}\n'], 'attach flushes the initial burst');
    stream.send(ev(3));
    stream.send(ev(4));
    stream.send(ev(5));
    await new Promise((r) => process.nextTick(r));
    assert.equal(res.writes.length, 2);
    assert.equal(res.writes[1], '{"type":"ADDED","n":3}\n{"type":"ADDED","n":4}\n{"type":"ADDED","n":5}\n');
    stream.send(ev(6));
    stream.end();
    assert.equal(res.writes[2], '{"type":"ADDED","n":6}\n', 'the end writes what is pending first');
    assert.ok(res.ended);
    stream.send(ev(7));
    await new Promise((r) => process.nextTick(r));
    assert.equal(res.writes.length, 3, 'nothing after the end');
  });

  it('writes a long burst in pieces, not as one string', () => {
    const res = fakeResponse();
    const stream = openWatchStream(new EventEmitter() as any, res as any, () => 'x'.repeat(100 * 1024));
    for (let i = 0; i < 10; i++) stream.send(ev(i));
    assert.ok(res.writes.length >= 3, `${res.writes.length} writes`);
    assert.ok(res.writes.every((w) => w.length <= 400 * 1024));
  });
});
