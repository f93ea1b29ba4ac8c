import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteBackend } from './index.ts';
import { OffLoopReader } from './off-loop-reader.ts';

const withDir = async (fn: (dir: string) => Promise<void>) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-reader-'));
  try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
};

test('a count of 60,000 keys runs on the reader: the event loop turns while it runs, and the answer is exact', async () => {
  await withDir(async (dir) => {
    const backend = openSqliteBackend(join(dir, 'state.db'));
    try {
      const writes: Promise<number>[] = [];
      for (let i = 0; i < 60_000; i++) writes.push(backend.create(`/registry/core/events/ns/e${i}`, '{}'));
      for (let i = 0; i < 10; i++) writes.push(backend.create(`/registry/core/pods/ns/p${i}`, '{}'));
      await Promise.all(writes);
      await backend.delete('/registry/core/pods/ns/p0');
      // On the loop the count is one synchronous call (~30 ms here): no timer could fire during it.
      let turns = 0;
      const ticker = setInterval(() => { turns++; }, 1);
      const [events, pods] = await Promise.all([backend.count('/registry/core/events/'), backend.count('/registry/core/pods/')]);
      clearInterval(ticker);
      assert.equal(events, 60_000);
      assert.equal(pods, 9);
      assert.ok(turns > 0, 'the loop turned while the count ran');
    } finally {
      await backend.close();
    }
  });
});

test('the reader answers at the revision it is given, and a query that fails rejects without stopping it', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'state.db');
    const backend = openSqliteBackend(file);
    const reader = new OffLoopReader(file);
    try {
      const rev = await backend.create('/a', '1');
      await backend.create('/b', '2');
      const at = await reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM log WHERE id <= @rev', { rev });
      assert.equal(at.n, 1);
      await assert.rejects(reader.get('SELECT * FROM no_such_table', {}), /no such table/);
      // The connection is read-only: a write is refused, the data untouched.
      await assert.rejects(reader.get('DELETE FROM log RETURNING id', {}), /readonly|query_only|attempt to write/i);
      assert.equal((await backend.get('/a'))?.value, '1');
      assert.equal((await reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM log', {})).n, 2);
      assert.equal(reader.answered, 2);
    } finally {
      await reader.stop();
      await backend.close();
    }
    await assert.rejects(reader.get('SELECT 1', {}), /stopped/);
  });
});
