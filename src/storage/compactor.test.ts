import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactOnce, startCompactor } from './compactor.ts';
import { openSqliteBackend } from './sqlite/index.ts';

describe('compactor', () => {
  it('compacts to current minus keep, periodically, until stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-compactor-'));
    const backend = openSqliteBackend(join(dir, 'state.db'));
    try {
      assert.equal(await compactOnce(backend, 10), undefined);
      for (let i = 0; i < 30; i++) await backend.create(`/c/k${i}`, 'v');
      const compactor = startCompactor(backend, { intervalMs: 20, keepRevisions: 10 });
      const deadline = Date.now() + 5000;
      while ((await backend.compactedRevision()) !== 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await backend.compactedRevision(), 20);
      compactor.stop();
      for (let i = 30; i < 40; i++) await backend.create(`/c/k${i}`, 'v');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await backend.compactedRevision(), 20, 'a stopped compactor must not compact again');
      assert.equal(await compactOnce(backend, 10), 30);
      assert.equal(await backend.count('/c/'), 40);
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
