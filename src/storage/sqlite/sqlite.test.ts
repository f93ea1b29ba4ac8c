import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collect, runBackendSuite } from '../backend.case.ts';
import { openSqliteBackend } from './index.ts';
import { openDatabase } from './schema.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'berth-sqlite-'));
}

runBackendSuite('sqlite', async () => {
  const dir = tempDir();
  const backend = openSqliteBackend(join(dir, 'state.db'), { progressIntervalMs: 200 });
  return { backend, cleanup: async () => { await backend.close(); rmSync(dir, { recursive: true, force: true }); } };
});

describe('sqlite backend', () => {
  it('replays history written before it opened and sees writes of another instance', async () => {
    const dir = tempDir();
    const file = join(dir, 'state.db');
    const first = openSqliteBackend(file);
    for (let i = 1; i <= 5; i++) await first.create(`/h/k${i}`, String(i));
    await first.close();
    const second = openSqliteBackend(file, { pollIntervalMs: 50 });
    const third = openSqliteBackend(file);
    try {
      const w = collect(second, '/h/', 2);
      await w.until((c) => c.events.length >= 3);
      // A write through another handle reaches the watch through the timer poll.
      await third.create('/h/k6', '6');
      await w.until((c) => c.events.length >= 4);
      w.watch.close();
      assert.deepEqual(w.events.map((e) => e.revision), [3, 4, 5, 6]);
      assert.equal(await second.currentRevision(), 6);
    } finally {
      await second.close();
      await third.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a watcher hears its own handle\'s writes and another process\'s, interleaved on one key, each with its values', async () => {
    const dir = tempDir();
    const file = join(dir, 'state.db');
    const mine = openSqliteBackend(file, { pollIntervalMs: 20 });
    const other = openSqliteBackend(file, { pollIntervalMs: 20 });
    try {
      const w = collect(mine, '/i/', 0);
      let rev = await mine.create('/i/k', 'v0');
      for (let i = 1; i <= 6; i++) {
        const by = i % 2 ? other : mine;
        // No wait in between: this handle's poll after its own commit finds the other's row before its own.
        rev = await by.update('/i/k', `v${i}`, rev);
      }
      await w.until((c) => c.events.length >= 7);
      w.watch.close();
      assert.deepEqual(w.events.map((e) => e.kv.value), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
      assert.deepEqual(w.events.slice(1).map((e) => e.prevKv?.value), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
      assert.deepEqual(w.events.map((e) => e.revision), [1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await mine.close();
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores an update\'s previous value once (in the row it replaced) and replays history from the table with it, old rows too', async () => {
    const dir = tempDir();
    const file = join(dir, 'state.db');
    const first = openSqliteBackend(file);
    const r1 = await first.create('/o/k', 'v1');
    const r2 = await first.update('/o/k', 'v2', r1);
    const r3 = await first.update('/o/k', 'v3', r2);
    await first.delete('/o/k', r3);
    const m = await first.create('/o/m', 'm1');
    await first.close();
    const raw = openDatabase(file);
    const rows = raw.prepare('SELECT value, old_value FROM log ORDER BY id').all() as { value: string; old_value: string | null }[];
    assert.deepEqual(rows.map((r) => [r.value, r.old_value]), [['v1', null], ['v2', null], ['v3', null], ['v3', null], ['m1', null]]);
    // Rows as written before (kine's old_value in the row itself) still replay as they did.
    raw.prepare(`INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value, old_value) VALUES (6, '/o/j', 1, 0, 6, 0, 'j1', NULL),
      (7, '/o/j', 0, 0, 6, 6, 'j2', 'j1'), (8, '/o/j', 0, 1, 6, 7, 'j2', 'j2')`).run();
    raw.prepare(`UPDATE sqlite_sequence SET seq = 8 WHERE name = 'log'`).run();
    raw.close();
    const second = openSqliteBackend(file);
    try {
      const w = collect(second, '/o/', 0);
      await w.until((c) => c.events.length >= 8);
      assert.deepEqual(w.events.map((e) => [e.type, e.kv.value, e.prevKv?.value]), [
        ['create', 'v1', undefined], ['update', 'v2', 'v1'], ['update', 'v3', 'v2'], ['delete', 'v3', 'v3'], ['create', 'm1', undefined],
        ['create', 'j1', undefined], ['update', 'j2', 'j1'], ['delete', 'j2', 'j2'],
      ]);
      // A key this handle never wrote: its previous value is read by revision.
      await second.update('/o/m', 'm2', m);
      await w.until((c) => c.events.length >= 9);
      w.watch.close();
      assert.deepEqual([w.events[8]!.kv.value, w.events[8]!.prevKv?.value], ['m2', 'm1']);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fsyncs every commit by default and shares one transaction among concurrent writes', async () => {
    const dir = tempDir();
    const file = join(dir, 'state.db');
    const backend = openSqliteBackend(file);
    try {
      // The opener's own default is SQLite's FULL (2); the backend commits as NORMAL and syncs the WAL
      // itself, off the loop, at least once per acknowledged group (wal-sync.ts).
      const probe = openDatabase(join(dir, 'probe.db'));
      assert.equal(probe.pragma('synchronous', { simple: true }), 2);
      probe.close();
      await Promise.all(Array.from({ length: 100 }, (_, i) => backend.create(`/g/k${i}`, String(i))));
      const stats = backend.groupStats();
      assert.equal(stats.writes, 100);
      assert.ok(stats.groups < 10 && stats.largest >= 50, JSON.stringify(stats));
      assert.ok(stats.syncs >= 1 && stats.syncs <= stats.groups, JSON.stringify(stats));
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('acknowledges a write once its WAL sync is done; reads meanwhile see only durable rows', async () => {
    const dir = tempDir();
    const backend = openSqliteBackend(join(dir, 'state.db'));
    try {
      const before = await backend.create('/d/a', '1');
      const acked = backend.create('/d/b', '2');
      // Committed (the store was idle) but its sync has only begun: lists and revisions stop before it.
      const listed = await backend.list('/d/');
      assert.deepEqual(listed.items.map((kv) => kv.key), ['/d/a']);
      assert.equal(listed.revision, before);
      // A read of the key itself waits for the sync rather than answer without it.
      assert.equal((await backend.get('/d/b'))?.value, '2');
      assert.equal(await acked, before + 1);
      assert.equal(await backend.currentRevision(), before + 1);
      assert.ok(backend.groupStats().syncs >= 2, JSON.stringify(backend.groupStats()));
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists 10,000 keys quickly', async () => {
    const dir = tempDir();
    const backend = openSqliteBackend(join(dir, 'state.db'));
    try {
      // Written 500 at a time (group commit: one sync per group, not one per key).
      const key = (i: number) => `/big/k${String(i).padStart(5, '0')}`;
      const revs: number[] = [];
      for (let i = 0; i < 10_000; i += 500) {
        revs.push(...await Promise.all(Array.from({ length: 500 }, (_, j) => backend.create(key(i + j), 'x'.repeat(100)))));
      }
      for (let i = 0; i < 2_000; i += 500) {
        await Promise.all(Array.from({ length: 500 }, (_, j) => backend.update(key(i + j), 'y', revs[i + j])));
      }
      const started = performance.now();
      const all = await backend.list('/big/');
      const elapsed = performance.now() - started;
      assert.equal(all.items.length, 10_000);
      assert.equal(all.items[0].value, 'y');
      assert.ok(elapsed < 500, `list took ${elapsed} ms`);
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps every acknowledged write across kill -9', async () => {
    const dir = tempDir();
    const file = join(dir, 'state.db');
    const writer = fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => { out += d; });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      // Wait for the first acknowledged write, then let it run a little longer before killing it.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('writer never acknowledged a write')), 15_000);
        child.stdout.on('data', () => { clearTimeout(timer); resolve(); });
      });
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');
    const acked = out.split('\n').filter((line) => line.startsWith('/'));
    assert.ok(acked.length > 10, `only ${acked.length} writes acknowledged`);
    const backend = openSqliteBackend(file);
    try {
      for (const key of acked) assert.ok(await backend.get(key), `lost acknowledged key ${key}`);
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
