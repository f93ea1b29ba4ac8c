import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd } from '../../test/support/etcd.ts';
import { openStore, sqliteOptionsFromEnv } from './index.ts';

describe('openStore', () => {
  it('reads the SQLite measurement knobs from the environment and refuses bad values', () => {
    assert.deepEqual(sqliteOptionsFromEnv({}), {});
    assert.deepEqual(sqliteOptionsFromEnv({ BERTH_SQLITE_SYNCHRONOUS: 'normal', BERTH_SQLITE_GROUP_WINDOW_US: '250' }),
      { synchronous: 'NORMAL', groupCommit: { windowUs: 250 } });
    assert.throws(() => sqliteOptionsFromEnv({ BERTH_SQLITE_SYNCHRONOUS: 'OFF' }), /FULL or NORMAL/);
    assert.throws(() => sqliteOptionsFromEnv({ BERTH_SQLITE_GROUP_WINDOW_US: '1ms' }), /microseconds/);
    assert.deepEqual(sqliteOptionsFromEnv({ BERTH_SQLITE_GROUP_WINDOW_US: '0', BERTH_SQLITE_GROUP_MAX: '128' }), { groupCommit: { windowUs: 0, maxBatch: 128 } });
    assert.throws(() => sqliteOptionsFromEnv({ BERTH_SQLITE_GROUP_MAX: '0' }), /positive number of writes/);
    assert.deepEqual(sqliteOptionsFromEnv({ BERTH_SQLITE_CHECKPOINT: 'inline' }), { checkpoint: 'inline' });
    assert.throws(() => sqliteOptionsFromEnv({ BERTH_SQLITE_CHECKPOINT: 'never' }), /worker or inline/);
  });

  it('opens sqlite at <dataDir>/state.db, creating the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
    const dataDir = join(dir, 'nested', 'data');
    const store = await openStore('sqlite', dataDir);
    try {
      assert.equal(await store.create('/a', 'b'), 1);
      assert.ok(existsSync(join(dataDir, 'state.db')));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens etcd from an etcd:// spec', async () => {
    const etcd = await startEtcd();
    try {
      const store = await openStore(`etcd://${etcd.endpoint}`, '/nonexistent');
      try {
        const rev = await store.create('/a', 'b');
        assert.equal((await store.get('/a'))?.modRevision, rev);
      } finally {
        await store.close();
      }
    } finally {
      await etcd.stop();
    }
  });

  it('rejects anything else with a clear error', async () => {
    await assert.rejects(openStore('postgres://x', '/tmp'), /unknown store "postgres:\/\/x"/);
    await assert.rejects(openStore('etcd://', '/tmp'), /invalid etcd store/);
    await assert.rejects(openStore('etcd://host-without-port', '/tmp'), /invalid etcd store/);
  });
});
