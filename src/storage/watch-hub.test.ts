import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WatchHub } from './watch-hub.ts';
import type { KeyValue, WatchEvent } from './backend.ts';

const noHistory = { history: async (): Promise<WatchEvent[]> => { throw new Error('no history in this test'); } };
// Values built at run time, so equal values are distinct strings, as two reads of a store give.
const value = (n: number) => JSON.stringify({ n, pad: 'x'.repeat(64) });
const kv = (key: string, n: number, rev: number, created: number): KeyValue => ({ key, value: value(n), createRevision: created, modRevision: rev });

describe('WatchHub ring', () => {
  it('an update or delete shares its previous value with the event before it; replays still see every value', async () => {
    const hub = new WatchHub(noHistory, 0, { ringSize: 8 });
    const create: WatchEvent = { type: 'create', kv: kv('/a', 1, 1, 1), revision: 1 };
    const update: WatchEvent = { type: 'update', kv: kv('/a', 2, 2, 1), prevKv: kv('/a', 1, 1, 1), revision: 2 };
    const other: WatchEvent = { type: 'create', kv: kv('/b', 9, 3, 3), revision: 3 };
    // A previous value that differs from the ring's (never from a consistent store) is left alone.
    const odd: WatchEvent = { type: 'update', kv: kv('/b', 10, 4, 3), prevKv: { ...kv('/b', 99, 3, 3) }, revision: 4 };
    const del: WatchEvent = { type: 'delete', kv: { ...kv('/a', 2, 5, 1) }, prevKv: kv('/a', 2, 2, 1), revision: 5 };
    for (const e of [create, update, other, odd, del]) hub.publish([e]);
    assert.equal(update.prevKv, create.kv, 'the update points at the create\'s KeyValue');
    assert.equal(del.prevKv, update.kv, 'the delete points at the update\'s KeyValue');
    assert.equal(del.kv.modRevision, 5);
    assert.equal(del.kv.value, update.kv.value);
    assert.notEqual(odd.prevKv, other.kv, 'a differing previous value is kept as sent');
    const got: WatchEvent[] = [];
    const w = hub.watch('/', { afterRevision: 0, onEvents: (es) => got.push(...es), onError: (e) => { throw e; } });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got.map((e) => [e.type, e.revision, JSON.parse(e.kv.value).n, e.prevKv && JSON.parse(e.prevKv.value).n]),
      [['create', 1, 1, undefined], ['update', 2, 2, 1], ['create', 3, 9, undefined], ['update', 4, 10, 99], ['delete', 5, 2, 2]]);
    w.close();
    hub.close();
  });

  it('keeps at most a quarter more than ringSize and forgets trimmed events (a key re-created after them shares nothing stale)', async () => {
    const hub = new WatchHub(noHistory, 0, { ringSize: 8 });
    let rev = 0;
    for (let i = 0; i < 40; i++) { rev++; hub.publish([{ type: 'create', kv: kv(`/k${i}`, i, rev, rev), revision: rev }]); }
    const ring = (hub as unknown as { ring: WatchEvent[] }).ring;
    const latest = (hub as unknown as { latest: Map<string, WatchEvent> }).latest;
    assert.ok(ring.length <= 10, `ring ${ring.length}`);
    assert.equal(latest.size, ring.length, 'one newest event per key still in the ring');
    // /k0 left the ring: an update of it keeps the previous value the store sent.
    rev++;
    const prevKv = kv('/k0', 0, 1, 1);
    const upd: WatchEvent = { type: 'update', kv: kv('/k0', 100, rev, 1), prevKv, revision: rev };
    hub.publish([upd]);
    assert.equal(upd.prevKv, prevKv);
    // A watch from before the ring's start goes to history (here: fails), one inside it replays.
    const errors: Error[] = [];
    hub.watch('/', { afterRevision: 1, onEvents: () => {}, onError: (e) => errors.push(e) });
    const got: number[] = [];
    hub.watch('/', { afterRevision: rev - 3, onEvents: (es) => got.push(...es.map((e) => e.revision)), onError: (e) => { throw e; } });
    await new Promise((r) => setImmediate(r));
    assert.equal(errors.length, 1);
    assert.deepEqual(got, [rev - 2, rev - 1, rev]);
    hub.close();
  });
});
