/**
 * The behaviour every storage backend must show, as one shared suite: each backend's test file calls
 * `runBackendSuite`. Tests use their own key prefix and relative revisions, so the store may be shared.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompactedError, ConflictError, FutureRevisionError, KeyExistsError, NotFoundError,
  type Backend, type Watch, type WatchEvent,
} from './backend.ts';

/** A backend under test and how to dispose of it. */
export interface OpenedBackend {
  backend: Backend;
  cleanup(): Promise<void>;
  /** The backend says how many keys follow a limited list's page (ListResult.remaining) — etcd, the watch cache. */
  countsRemaining?: boolean;
}

/** What a test watch has seen so far. */
export interface Collected {
  events: WatchEvent[];
  progress: number[];
  errors: Error[];
  watch: Watch;
  /** Resolves once `test(this)` holds, rejects after `timeoutMs`. */
  until(test: (c: Collected) => boolean, timeoutMs?: number): Promise<void>;
}

/** Starts a watch that records everything it is given. */
export function collect(backend: Backend, prefix: string, afterRevision: number): Collected {
  const waiters: Array<() => void> = [];
  const wake = () => { for (const w of waiters.splice(0)) w(); };
  const c = {
    events: [] as WatchEvent[], progress: [] as number[], errors: [] as Error[],
  } as Collected;
  c.watch = backend.watch(prefix, {
    afterRevision,
    onEvents: (events) => { c.events.push(...events); wake(); },
    onProgress: (rev) => { c.progress.push(rev); wake(); },
    onError: (err) => { c.errors.push(err); wake(); },
  });
  c.until = (test, timeoutMs = 10_000) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; have ${c.events.length} events, ${c.errors.length} errors`)), timeoutMs);
    const check = () => {
      if (test(c)) { clearTimeout(timer); resolve(); } else waiters.push(check);
    };
    check();
  });
  return c;
}

let prefixCounter = 0;
/** A key prefix no other test uses. */
function freshPrefix(): string {
  return `/suite-${process.pid}-${Date.now().toString(36)}-${prefixCounter++}/`;
}

/** Runs the shared backend behaviour suite against `open`. */
export function runBackendSuite(name: string, open: () => Promise<OpenedBackend>): void {
  describe(`backend suite: ${name}`, () => {
    let opened: OpenedBackend;
    let b: Backend;
    before(async () => { opened = await open(); b = opened.backend; });
    after(async () => { await opened.cleanup(); });

    it('bumps the global revision by one per write', async () => {
      const p = freshPrefix();
      const r0 = await b.currentRevision();
      assert.equal(await b.create(`${p}a`, '1'), r0 + 1);
      assert.equal(await b.update(`${p}a`, '2', r0 + 1), r0 + 2);
      assert.equal(await b.create(`${p}b`, '1'), r0 + 3);
      assert.equal((await b.delete(`${p}a`)).revision, r0 + 4);
      assert.equal(await b.currentRevision(), r0 + 4);
      const kv = await b.get(`${p}b`);
      assert.deepEqual(kv, { key: `${p}b`, value: '1', createRevision: r0 + 3, modRevision: r0 + 3 });
    });

    it('refuses create on an existing key and allows it again after delete', async () => {
      const p = freshPrefix();
      await b.create(`${p}k`, 'v');
      await assert.rejects(b.create(`${p}k`, 'w'), KeyExistsError);
      await b.delete(`${p}k`);
      const rev = await b.create(`${p}k`, 'again');
      assert.deepEqual(await b.get(`${p}k`), { key: `${p}k`, value: 'again', createRevision: rev, modRevision: rev });
    });

    it('updates by compare-and-swap', async () => {
      const p = freshPrefix();
      const r1 = await b.create(`${p}k`, 'v1');
      const r2 = await b.update(`${p}k`, 'v2', r1);
      await assert.rejects(b.update(`${p}k`, 'v3', r1), (err: unknown) => {
        assert.ok(err instanceof ConflictError);
        assert.equal(err.currentRevision, r2);
        return true;
      });
      await assert.rejects(b.update(`${p}missing`, 'x', 0), NotFoundError);
      await assert.rejects(b.update(`${p}missing`, 'x', r1), NotFoundError);
      assert.deepEqual(await b.get(`${p}k`), { key: `${p}k`, value: 'v2', createRevision: r1, modRevision: r2 });
    });

    it('deletes with and without an expected revision', async () => {
      const p = freshPrefix();
      const r1 = await b.create(`${p}a`, 'A');
      const r2 = await b.create(`${p}b`, 'B');
      await assert.rejects(b.delete(`${p}a`, r1 - 1), ConflictError);
      const d1 = await b.delete(`${p}a`, r1);
      assert.equal(d1.kv.value, 'A');
      assert.equal(d1.kv.createRevision, r1);
      const d2 = await b.delete(`${p}b`);
      assert.equal(d2.kv.value, 'B');
      assert.equal(d2.kv.modRevision, r2);
      assert.equal(d2.revision, d1.revision + 1);
      await assert.rejects(b.delete(`${p}a`), NotFoundError);
      await assert.rejects(b.delete(`${p}never`, 5), NotFoundError);
      assert.equal(await b.get(`${p}a`), undefined);
    });

    it('reads at a past revision and refuses future ones', async () => {
      const p = freshPrefix();
      const r1 = await b.create(`${p}a`, 'one');
      const r2 = await b.update(`${p}a`, 'two', r1);
      await b.create(`${p}b`, 'bee');
      await b.delete(`${p}a`);
      assert.equal((await b.get(`${p}a`, r1))?.value, 'one');
      assert.equal((await b.get(`${p}a`, r2))?.value, 'two');
      assert.equal(await b.get(`${p}a`), undefined);
      const atR1 = await b.list(p, { revision: r1 });
      assert.equal(atR1.revision, r1);
      assert.deepEqual(atR1.items.map((kv) => [kv.key, kv.value]), [[`${p}a`, 'one']]);
      const atR2plus = await b.list(p, { revision: r2 + 1 });
      assert.deepEqual(atR2plus.items.map((kv) => kv.value), ['two', 'bee']);
      assert.deepEqual((await b.list(p)).items.map((kv) => kv.value), ['bee']);
      const future = (await b.currentRevision()) + 1000;
      await assert.rejects(b.list(p, { revision: future }), FutureRevisionError);
    });

    it('pages a list with after/limit and counts', async () => {
      const p = freshPrefix();
      const keys: string[] = [];
      for (let i = 0; i < 25; i++) {
        keys.push(`${p}k${String(i).padStart(2, '0')}`);
        await b.create(keys[i], `v${i}`);
      }
      // Keys that share the text of the prefix but lie outside it must not leak in.
      await b.create(`${p.slice(0, -1)}0/x`, 'outside');
      await b.create(`${p.slice(0, -1)}`, 'outside');
      const rev = await b.currentRevision();
      const seen: string[] = [];
      let afterKey: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await b.list(p, { limit: 10, after: afterKey, revision: rev });
        pages++;
        seen.push(...page.items.map((kv) => kv.key));
        assert.equal(page.revision, rev);
        // What follows the page at its revision, where the backend says (the outside keys never count).
        if (page.remaining !== undefined || opened.countsRemaining) assert.equal(page.remaining, 25 - seen.length, `remaining after page ${pages}`);
        if (!page.more) break;
        assert.equal(page.items.length, 10);
        afterKey = page.items[page.items.length - 1].key;
      }
      assert.equal(pages, 3);
      assert.deepEqual(seen, keys);
      const all = await b.list(p);
      assert.equal(all.items.length, 25);
      assert.equal(all.more, false);
      assert.equal((await b.list(p, { limit: 25 })).more, false);
      assert.equal(await b.count(p), 25);
      await b.delete(keys[3]);
      assert.equal(await b.count(p), 24);
      assert.equal(await b.count(`${p}nothing`), 0);
    });

    it('watch from a past revision replays in order, then goes live', async () => {
      const p = freshPrefix();
      const start = await b.currentRevision();
      await b.create(`${p}a`, '1');
      await b.create(`${p}b`, '1');
      await b.update(`${p}a`, '2', start + 1);
      const w = collect(b, p, start);
      await w.until((c) => c.events.length >= 3);
      await b.delete(`${p}b`);
      await w.until((c) => c.events.length >= 4);
      w.watch.close();
      assert.deepEqual(w.events.map((e) => [e.type, e.kv.key, e.revision]), [
        ['create', `${p}a`, start + 1], ['create', `${p}b`, start + 2],
        ['update', `${p}a`, start + 3], ['delete', `${p}b`, start + 4],
      ]);
      assert.deepEqual(w.errors, []);
    });

    it('watch events carry values and prevKv', async () => {
      const p = freshPrefix();
      const w = collect(b, p, await b.currentRevision());
      const r1 = await b.create(`${p}k`, 'v1');
      const r2 = await b.update(`${p}k`, 'v2', r1);
      const r3 = (await b.delete(`${p}k`)).revision;
      await w.until((c) => c.events.length >= 3);
      w.watch.close();
      const [c, u, d] = w.events;
      assert.deepEqual(c, { type: 'create', kv: { key: `${p}k`, value: 'v1', createRevision: r1, modRevision: r1 }, revision: r1 });
      assert.equal(u.type, 'update');
      assert.deepEqual(u.kv, { key: `${p}k`, value: 'v2', createRevision: r1, modRevision: r2 });
      assert.deepEqual(u.prevKv, { key: `${p}k`, value: 'v1', createRevision: r1, modRevision: r1 });
      assert.equal(d.type, 'delete');
      assert.equal(d.revision, r3);
      assert.deepEqual(d.kv, { key: `${p}k`, value: 'v2', createRevision: r1, modRevision: r3 });
      assert.deepEqual(d.prevKv, { key: `${p}k`, value: 'v2', createRevision: r1, modRevision: r2 });
    });

    it('filters watchers by prefix and stops after close', async () => {
      const p = freshPrefix();
      const start = await b.currentRevision();
      const wa = collect(b, `${p}a/`, start);
      const wb = collect(b, `${p}b/`, start);
      await b.create(`${p}a/1`, 'x');
      await b.create(`${p}b/1`, 'x');
      await b.create(`${p}a/2`, 'x');
      await wa.until((c) => c.events.length >= 2);
      await wb.until((c) => c.events.length >= 1);
      wa.watch.close();
      wa.watch.close();
      await b.create(`${p}a/3`, 'x');
      await b.create(`${p}b/2`, 'x');
      await wb.until((c) => c.events.length >= 2);
      wb.watch.close();
      assert.deepEqual(wa.events.map((e) => e.kv.key), [`${p}a/1`, `${p}a/2`]);
      assert.deepEqual(wb.events.map((e) => e.kv.key), [`${p}b/1`, `${p}b/2`]);
    });

    it('keeps order for every watcher when a watch callback writes', async () => {
      const p = freshPrefix();
      const start = await b.currentRevision();
      const writes: Promise<number>[] = [];
      // The first watcher reacts to each /a by writing /b from inside its callback.
      const reactor = b.watch(p, {
        afterRevision: start,
        onEvents: (events) => {
          for (const e of events) if (e.kv.key.startsWith(`${p}a`)) writes.push(b.create(`${p}b${e.kv.key.slice(-1)}`, 'x'));
        },
        onError: () => undefined,
      });
      const observer = collect(b, p, start);
      await b.create(`${p}a1`, 'x');
      await b.create(`${p}a2`, 'x');
      await observer.until((c) => c.events.length >= 4);
      await Promise.all(writes);
      reactor.close();
      observer.watch.close();
      const revs = observer.events.map((e) => e.revision);
      assert.deepEqual(revs, [...revs].sort((x, y) => x - y));
      assert.equal(new Set(revs).size, 4);
    });

    it('50 watchers see 2,000 writes exactly once and in order', async () => {
      const p = freshPrefix();
      const start = await b.currentRevision();
      const total = 2000;
      const watchers: Collected[] = [];
      for (let i = 0; i < 25; i++) watchers.push(collect(b, p, start));
      const write = async (from: number, to: number) => {
        // Several writes in flight at once, as the API layer would issue them.
        for (let i = from; i < to; i += 20) {
          const batch: Promise<number>[] = [];
          for (let j = i; j < Math.min(i + 20, to); j++) batch.push(b.create(`${p}k${j}`, String(j)));
          await Promise.all(batch);
        }
      };
      await write(0, total / 2);
      // Late joiners replay the first half from the past, then must join the live stream seamlessly.
      for (let i = 0; i < 25; i++) watchers.push(collect(b, p, start));
      await write(total / 2, total);
      for (const w of watchers) await w.until((c) => c.events.length >= total || c.errors.length > 0, 30_000);
      for (const w of watchers) {
        w.watch.close();
        assert.deepEqual(w.errors, []);
        assert.equal(w.events.length, total);
        const revs = w.events.map((e) => e.revision);
        for (let i = 1; i < revs.length; i++) assert.ok(revs[i] > revs[i - 1], `out of order at ${i}`);
        assert.equal(new Set(w.events.map((e) => e.kv.key)).size, total);
        assert.equal(revs[revs.length - 1], start + total);
      }
    });

    it('compaction makes old revisions unreadable but keeps live data', async () => {
      const p = freshPrefix();
      const r1 = await b.create(`${p}a`, '1');
      const r2 = await b.update(`${p}a`, '2', r1);
      await b.create(`${p}gone`, 'x');
      await b.delete(`${p}gone`);
      const r5 = await b.create(`${p}b`, '1');
      await b.compact(r5);
      assert.ok((await b.compactedRevision()) >= r5);
      await assert.rejects(b.get(`${p}a`, r2), CompactedError);
      await assert.rejects(b.list(p, { revision: r1 }), CompactedError);
      const w = collect(b, p, r1);
      await w.until((c) => c.errors.length > 0);
      assert.ok(w.errors[0] instanceof CompactedError, String(w.errors[0]));
      assert.equal(w.events.length, 0);
      assert.deepEqual((await b.list(p)).items.map((kv) => [kv.key, kv.value, kv.modRevision]), [[`${p}a`, '2', r2], [`${p}b`, '1', r5]]);
      assert.deepEqual((await b.list(p, { revision: r5 })).items.length, 2);
      assert.equal(await b.count(p), 2);
      // Writes and watches from the compacted revision on keep working.
      const w2 = collect(b, p, r5);
      const r6 = await b.update(`${p}a`, '3', r2);
      await w2.until((c) => c.events.length >= 1);
      w2.watch.close();
      assert.equal(w2.events[0].revision, r6);
      assert.equal(await b.currentRevision(), r6);
    });

    it('concurrent writers: one winner per precondition, each write its own revision or error', async () => {
      const p = freshPrefix();
      const r0 = await b.currentRevision();
      const base = await b.create(`${p}hot`, 'v0');
      await b.create(`${p}taken`, 'x');
      const r1 = await b.currentRevision();
      // All issued in the same turn: the SQLite backend commits them in one group.
      const updates = Array.from({ length: 20 }, (_, i) => b.update(`${p}hot`, `v${i + 1}`, base));
      const creates = Array.from({ length: 30 }, (_, i) => b.create(i % 3 === 0 ? `${p}taken` : `${p}c${i}`, String(i)));
      const deletes = [b.delete(`${p}missing`), b.delete(`${p}taken`, base)];
      const [u, c, d] = await Promise.all([Promise.allSettled(updates), Promise.allSettled(creates), Promise.allSettled(deletes)]);
      const won = u.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<number>[];
      assert.equal(won.length, 1, 'exactly one update from the same revision wins');
      for (const r of u) {
        if (r.status === 'rejected') {
          assert.ok(r.reason instanceof ConflictError, String(r.reason));
          assert.equal(r.reason.currentRevision, won[0].value);
        }
      }
      c.forEach((r, i) => {
        if (i % 3 === 0) assert.ok(r.status === 'rejected' && r.reason instanceof KeyExistsError, `create ${i}: ${r.status}`);
        else assert.equal(r.status, 'fulfilled', `create ${i}: ${r.status === 'rejected' ? r.reason : ''}`);
      });
      assert.ok(d[0].status === 'rejected' && d[0].reason instanceof NotFoundError);
      assert.ok(d[1].status === 'rejected' && d[1].reason instanceof ConflictError);
      // Failed writes take no revision: the successful ones hold exactly the next revisions, once each.
      const revs = [won[0].value, ...c.flatMap((r) => r.status === 'fulfilled' ? [r.value] : [])].sort((x, y) => x - y);
      assert.deepEqual(revs, Array.from({ length: 21 }, (_, i) => r1 + 1 + i));
      assert.equal(await b.currentRevision(), r1 + 21);
      assert.equal(r1, r0 + 2);
      const hot = await b.get(`${p}hot`);
      assert.equal(hot?.modRevision, won[0].value);
      assert.equal((await b.get(`${p}taken`))?.value, 'x');
      assert.equal(await b.count(p), 22);
    });

    it('concurrent writers: the watch sees every write once, in strictly increasing revisions matching the answers', async () => {
      const p = freshPrefix();
      const start = await b.currentRevision();
      const w = collect(b, p, start);
      const answers = new Map<string, number>();
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) ops.push(b.create(`${p}k${i}`, String(i)).then((rev) => answers.set(`${p}k${i}`, rev)));
      await Promise.all(ops);
      // Second wave: each key updated from the revision its create was acknowledged with, a few twice (one must lose).
      const second: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i += 2) {
        const key = `${p}k${i}`;
        const from = answers.get(key)!;
        const tries = i % 20 === 0 ? 2 : 1;
        const racing = Array.from({ length: tries }, (_, t) => b.update(key, `u${t}`, from));
        second.push(Promise.allSettled(racing).then((settled) => {
          const wins = settled.flatMap((r) => r.status === 'fulfilled' ? [r.value] : []);
          assert.equal(wins.length, 1, `${key}: ${wins.length} updates from one revision won`);
          for (const r of settled) if (r.status === 'rejected') assert.ok(r.reason instanceof ConflictError, String(r.reason));
          answers.set(key, wins[0]);
        }));
      }
      await Promise.all(second);
      await w.until((c) => c.events.length >= 300 || c.errors.length > 0, 20_000);
      w.watch.close();
      assert.deepEqual(w.errors, []);
      assert.equal(w.events.length, 300);
      const revs = w.events.map((e) => e.revision);
      for (let i = 1; i < revs.length; i++) assert.ok(revs[i] > revs[i - 1], `out of order at ${i}`);
      const last = new Map<string, number>();
      for (const e of w.events) last.set(e.kv.key, e.kv.modRevision);
      assert.deepEqual(last, answers);
    });

    it('sends progress notifications', async () => {
      const p = freshPrefix();
      const w = collect(b, p, await b.currentRevision());
      const rev = await b.create(`${p}other-key`.replace(p, `${p}x/`), 'v');
      await w.until((c) => c.progress.some((r) => r >= rev), 5000);
      w.watch.close();
      assert.deepEqual(w.errors, []);
    });
  });
}
