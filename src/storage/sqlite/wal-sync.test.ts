import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from './wal-sync.ts';

describe('WalSync', () => {
  it('shares syncs: callers during a sync in flight all wait for one next sync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-walsync-'));
    try {
      const file = join(dir, 'state.db-wal');
      writeFileSync(file, 'frames');
      const sync = new WalSync(file);
      const first = sync.sync();
      const during = Array.from({ length: 20 }, () => sync.sync());
      await Promise.all([first, ...during]);
      assert.equal(sync.syncs, 2);
      await sync.sync();
      assert.equal(sync.syncs, 3);
      sync.syncNow();
      sync.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails the callers of a sync that cannot be made', async () => {
    const sync = new WalSync(join(tmpdir(), 'berth-walsync-missing', 'state.db-wal'));
    await assert.rejects(sync.sync(), /ENOENT/);
  });
});
