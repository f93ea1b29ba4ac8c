import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteBackend } from './index.ts';

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('checkpoint worker', () => {
  it('copies the WAL into the database file off the loop while writes go on, and loses nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ckpt-'));
    const file = join(dir, 'state.db');
    const backend = openSqliteBackend(file, { checkpointIntervalMs: 20 });
    try {
      const dbSize = statSync(file).size;
      for (let i = 0; i < 2_000; i += 200) {
        await Promise.all(Array.from({ length: 200 }, (_, j) => backend.create(`/c/k${String(i + j).padStart(4, '0')}`, 'v'.repeat(300))));
      }
      // The worker has copied frames: the database file itself grew, which only a checkpoint does
      // (SQLite's own threshold is raised far above these ~2,000 writes' pages).
      await until(() => (backend.checkpointStats()?.frames ?? 0) > 0 && statSync(file).size > dbSize, 'a checkpoint');
      const stats = backend.checkpointStats()!;
      assert.ok(stats.checkpoints >= 1 && stats.longestMs >= 0, JSON.stringify(stats));
      // Another connection reading the file sees every row (WAL + database file, consistent).
      const other = new Database(file, { readonly: true });
      const n = (other.prepare(`SELECT COUNT(*) AS n FROM log WHERE name LIKE '/c/%'`).get() as { n: number }).n;
      other.close();
      assert.equal(n, 2_000);
    } finally {
      await backend.close();
    }
    // Closed cleanly: the last connection checkpointed and removed the WAL; all rows are in the file.
    const db = new Database(file, { readonly: true });
    try {
      assert.equal((db.prepare(`SELECT COUNT(*) AS n FROM log WHERE name LIKE '/c/%'`).get() as { n: number }).n, 2_000);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checkpoint 'inline' leaves it to SQLite inside COMMIT (no worker)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ckpt-'));
    const backend = openSqliteBackend(join(dir, 'state.db'), { checkpoint: 'inline' });
    try {
      await backend.create('/c/a', '1');
      assert.equal(backend.checkpointStats(), undefined);
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
