import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { GroupCommitter } from './group-commit.ts';

class OwnError extends Error {}

function setup(windowUs = 0, maxBatch?: number) {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  let commits = 0;
  const committer = new GroupCommitter(db, (err) => err instanceof OwnError ? err : undefined, () => { commits++; }, { windowUs, maxBatch });
  const rows = () => (db.prepare('SELECT v FROM t ORDER BY id').all() as Array<{ v: string }>).map((r) => r.v);
  return { db, insert, committer, rows, commits: () => commits };
}

describe('group commit', () => {
  it('commits the first write of an idle store at once and the rest of the turn in one transaction, in order', async () => {
    const { insert, committer, rows, commits } = setup();
    const first = committer.submit(() => Number(insert.run('a').lastInsertRowid));
    // Committed before submit returned: the store was idle.
    assert.deepEqual(rows(), ['a']);
    const done = await Promise.all([first, ...['b', 'c', 'd'].map((v) => committer.submit(() => Number(insert.run(v).lastInsertRowid)))]);
    assert.deepEqual(done, [1, 2, 3, 4]);
    assert.deepEqual(rows(), ['a', 'b', 'c', 'd']);
    assert.equal(commits(), 2);
    assert.deepEqual(committer.stats, { groups: 2, writes: 4, largest: 3 });
    // A later turn, idle again: at once.
    await new Promise((r) => setImmediate(r));
    void committer.submit(() => insert.run('e'));
    assert.deepEqual(rows(), ['a', 'b', 'c', 'd', 'e']);
  });

  it('a write failing with its own error fails alone; the rest of the group commits', async () => {
    const { insert, committer, rows } = setup(1); // a window: every write waits for the group
    const results = await Promise.allSettled([
      committer.submit(() => insert.run('a')),
      committer.submit(() => { throw new OwnError('precondition'); }),
      committer.submit(() => insert.run('b')),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof OwnError);
    assert.deepEqual(rows(), ['a', 'b']);
  });

  it('an error of the transaction fails every write of the group and rolls all back; the next group commits', async () => {
    const { insert, committer, rows } = setup(1);
    const results = await Promise.allSettled([
      committer.submit(() => insert.run('a')),
      committer.submit(() => insert.run('a')), // UNIQUE: not an own error here, so the group's
      committer.submit(() => insert.run('b')),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    for (const r of results) assert.match(String((r as PromiseRejectedResult).reason), /UNIQUE/);
    assert.deepEqual(rows(), []);
    await committer.submit(() => insert.run('c'));
    assert.deepEqual(rows(), ['c']);
  });

  it('tells the backend when a group rolled back (its revisions are taken again), never for a write\'s own error', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    let rollbacks = 0;
    const committer = new GroupCommitter(db, (err) => err instanceof OwnError ? err : undefined, () => {}, { windowUs: 1 }, undefined, () => { rollbacks++; });
    await Promise.allSettled([committer.submit(() => insert.run('a')), committer.submit(() => { throw new OwnError('mine'); })]);
    assert.equal(rollbacks, 0);
    await Promise.allSettled([committer.submit(() => insert.run('b')), committer.submit(() => insert.run('b'))]);
    assert.equal(rollbacks, 1);
  });

  it('caps a group at maxBatch and keeps a window open across turns', async () => {
    const { insert, committer, rows } = setup(2000, 3);
    const first = Array.from({ length: 7 }, (_, i) => committer.submit(() => insert.run(`x${i}`)));
    // Submitted on a later turn, within the 2 ms window of the open group's successor.
    await new Promise((r) => setImmediate(r));
    const late = committer.submit(() => insert.run('late'));
    await Promise.all([...first, late]);
    assert.equal(rows().length, 8);
    assert.equal(committer.stats.largest, 3);
    assert.ok(committer.stats.groups >= 3, JSON.stringify(committer.stats));
  });

  it('flushNow commits what is queued at once', () => {
    const { insert, committer, rows } = setup(1_000_000);
    void committer.submit(() => insert.run('now'));
    committer.flushNow();
    assert.deepEqual(rows(), ['now']);
  });

  it('with a Durability, acknowledges a group only after its sync, in commit order, and reports what is durable meanwhile', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const count = () => (db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
    const syncs: Array<() => void> = [];
    const order: string[] = [];
    const committer = new GroupCommitter(db, () => undefined, () => order.push(`after-commit ${count()}`), {}, {
      mark: count,
      sync: () => new Promise<void>((resolve) => syncs.push(resolve)),
    });
    const a = committer.submit(() => insert.run('a')).then(() => order.push('a acked'));
    assert.equal(count(), 1, 'committed at once');
    assert.equal(committer.durableMark(), 0, 'but not durable');
    const b = committer.submit(() => insert.run('b')).then(() => order.push('b acked'));
    await new Promise((r) => setImmediate(r));
    assert.equal(count(), 2);
    assert.equal(syncs.length, 2);
    assert.deepEqual(order, []);
    syncs[0]();
    await a;
    assert.equal(committer.durableMark(), 1, 'the first group is durable, the second not yet');
    syncs[1]();
    await b;
    assert.equal(committer.durableMark(), undefined);
    assert.equal(committer.whenSynced(), undefined);
    assert.deepEqual(order, ['after-commit 2', 'a acked', 'after-commit 2', 'b acked']);
  });

  it('a failed sync fails its group and refuses every later write', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const committer = new GroupCommitter(db, () => undefined, () => {}, {}, {
      mark: () => 0,
      sync: () => Promise.reject(new Error('EIO: i/o error, fdatasync')),
    });
    await assert.rejects(committer.submit(() => insert.run('a')), /could not make its writes durable \(EIO/);
    await assert.rejects(committer.submit(() => insert.run('b')), /refused until the server restarts/);
  });
});
