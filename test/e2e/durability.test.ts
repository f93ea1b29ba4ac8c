/**
 * Durability of the SQLite store (synchronous=FULL with group commit): objects survive a clean
 * restart; every create the server acknowledged (201) survives 10 `kill -9`s at random moments of a
 * create storm; and every acknowledged create survives a simulated power loss (fixtures/
 * power-loss-shim.c: only what was fsynced is kept), while synchronous=NORMAL is shown to lose
 * acknowledged creates under the same simulation — so the simulation can tell the two apart.
 * Run: node --import tsx --test test/e2e/durability.test.ts
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';

const NS = 'e2e-dur';
const SHIM_SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'power-loss-shim.c');
/** Creates acknowledged across the kill rounds; `BERTH_E2E_DURABILITY_CREATES` lowers it on a slow box. */
const TOTAL_CREATES = Number(process.env.BERTH_E2E_DURABILITY_CREATES) || 10_000;
const KILL_ROUNDS = 10;

/**
 * Creates ConfigMaps `${prefix}-N` in `ns` from `workers` concurrent clients on keep-alive
 * connections, recording each name once the server answered 201. Stops on `stop()` or when the
 * server goes away (a request that fails then was never acknowledged).
 */
function createStorm(srv: BerthServer, ns: string, prefix: string, workers = 16) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: workers, ...srv.credentials() });
  const url = new URL(`/api/v1/namespaces/${ns}/configmaps`, srv.url);
  const acked: string[] = [];
  const refused: string[] = [];
  let seq = 0;
  let stopped = false;
  const post = (name: string) => new Promise<number>((resolve, reject) => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name, pad: 'x'.repeat(200) } });
    const req = https.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const name = `${prefix}-${seq++}`;
      let status: number;
      try { status = await post(name); } catch { return; } // the server died under us
      if (status === 201) acked.push(name); else refused.push(`${name}: ${status}`);
    }
  };
  const running = Promise.all(Array.from({ length: workers }, worker));
  return {
    acked, refused,
    async stop() { stopped = true; await running; agent.destroy(); },
  };
}

/** Names of the ConfigMaps in `ns`, read page by page. */
async function listNames(srv: BerthServer, ns: string): Promise<Set<string>> {
  const names = new Set<string>();
  let cont = '';
  do {
    const res = await srv.request('GET', `/api/v1/namespaces/${ns}/configmaps?limit=2000${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, { timeoutMs: 60_000 });
    assert.equal(res.status, 200, res.body.toString().slice(0, 300));
    for (const i of res.json.items as Array<{ metadata: { name: string } }>) names.add(i.metadata.name);
    cont = res.json.metadata.continue ?? '';
  } while (cont);
  return names;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('durability (sqlite)', () => {
  let server: BerthServer | undefined;
  const srv = (): BerthServer => {
    assert.ok(server, 'Berth server did not start (see the before hook failure)');
    return server;
  };
  const ok = async (args: string[], input?: string): Promise<string> =>
    assertOk(await srv().kubectl(args, input === undefined ? {} : { input }), `kubectl ${args.join(' ')}`);

  before(async () => {
    server = await startBerth({ store: 'sqlite' });
  });
  after(async () => {
    await server?.cleanup();
  });

  it('objects survive a clean restart (SIGTERM)', { timeout: 90_000 }, async () => {
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }));
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'survivor', namespace: NS }, data: { k: 'v' } }));
    await ok(['label', 'configmap', 'survivor', '-n', NS, 'round=2']);
    const before = parseJson(await ok(['get', 'cm', 'survivor', '-n', NS, '-o', 'json']), 'get survivor');
    await srv().stop();
    assert.deepEqual(srv().lastExit(), { code: 0, signal: null }, `SIGTERM should stop the server cleanly (exit 0):\n${srv().logs().slice(-2000)}`);
    await srv().restart();
    const afterRestart = parseJson(await ok(['get', 'cm', 'survivor', '-n', NS, '-o', 'json']), 'get survivor after restart');
    assert.deepEqual(afterRestart.data, { k: 'v' });
    assert.equal(afterRestart.metadata.labels.round, '2');
    assert.equal(afterRestart.metadata.uid, before.metadata.uid);
    assert.equal(afterRestart.metadata.resourceVersion, before.metadata.resourceVersion);
    // Writes keep working and resourceVersions keep increasing after the restart.
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-restart', namespace: NS }, data: { k: 'v' } }));
    const fresh = parseJson(await ok(['get', 'cm', 'after-restart', '-n', NS, '-o', 'json']), 'get after-restart');
    assert.ok(BigInt(fresh.metadata.resourceVersion) > BigInt(before.metadata.resourceVersion), 'resourceVersion must keep increasing across restarts');
  });

  it('every create acknowledged before kill -9 is present after restart', { timeout: 90_000 }, async (t) => {
    const path = `/api/v1/namespaces/${NS}/configmaps`;
    const acked: string[] = [];
    const failures: string[] = [];
    let stop = false;
    let seq = 0;
    const worker = async (w: number): Promise<void> => {
      while (!stop) {
        const name = `crash-${w}-${seq++}`;
        try {
          const res = await srv().request('POST', path, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } } });
          if (res.status === 201) acked.push(name);
          else failures.push(`${name}: ${res.status}`);
        } catch {
          return; // the server died under us
        }
      }
    };
    const workers = [0, 1, 2, 3, 4, 5, 6, 7].map(worker);
    // Let the loop run until a good number of creates were acknowledged, then kill -9 mid-flight.
    const deadline = Date.now() + 10_000;
    while (acked.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await srv().kill9();
    stop = true;
    await Promise.all(workers);
    assert.ok(acked.length > 0, `no create was acknowledged before the kill; non-201 answers: ${failures.slice(0, 5).join(', ')}`);
    assert.deepEqual(failures.slice(0, 5), [], 'unexpected non-201 answers during the create loop');

    await srv().restart();
    const res = await srv().request('GET', path);
    assert.equal(res.status, 200);
    const list = res.json as { items: Array<{ metadata: { name: string } }> };
    const present = new Set(list.items.map((i) => i.metadata.name));
    const missing = acked.filter((n) => !present.has(n));
    t.diagnostic(`${acked.length} creates acknowledged before kill -9; ${present.size} objects after restart`);
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged creates lost after kill -9`);
  });

  it(`${TOTAL_CREATES} acknowledged creates survive ${KILL_ROUNDS} kill -9s at random moments`, { timeout: 600_000 }, async (t) => {
    const ns = 'e2e-dur-kill';
    const made = await srv().request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
    assert.equal(made.status, 201, made.body.toString());
    const acked: string[] = [];
    for (let round = 0; round < KILL_ROUNDS; round++) {
      if (round > 0) await srv().restart();
      const storm = createStorm(srv(), ns, `r${round}`);
      // The kill lands after a random share of this round's creates (0.5–1.5 × the mean), plus a
      // random delay of up to 20 ms: wherever the 16 writers' requests and groups happen to be.
      const remaining = TOTAL_CREATES - acked.length;
      const mean = remaining / (KILL_ROUNDS - round);
      const killAt = round === KILL_ROUNDS - 1 ? remaining : Math.round(mean * (0.5 + Math.random()));
      const deadline = Date.now() + 120_000;
      while (storm.acked.length < killAt && Date.now() < deadline && storm.refused.length === 0) await sleep(2);
      await sleep(Math.random() * 20);
      await srv().kill9();
      await storm.stop();
      assert.deepEqual(storm.refused.slice(0, 5), [], `round ${round}: non-201 answers`);
      acked.push(...storm.acked);
      t.diagnostic(`round ${round}: ${storm.acked.length} creates acknowledged before kill -9`);
    }
    await srv().restart();
    const present = await listNames(srv(), ns);
    const missing = acked.filter((n) => !present.has(n));
    t.diagnostic(`${acked.length} creates acknowledged over ${KILL_ROUNDS} kill -9s; ${present.size} ConfigMaps present`);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${acked.length} acknowledged creates lost`);
    assert.ok(acked.length >= TOTAL_CREATES * 0.9, `only ${acked.length} creates were acknowledged in the time given`);
  });
});

/**
 * Power loss, simulated honestly on this machine: the server runs with fixtures/power-loss-shim.c
 * preloaded, which keeps, for each store file, a copy of what it held at its last fsync. After the
 * create storm the server is killed, and each store file (state.db, its -wal; the -shm is shared
 * memory, rebuilt on open) is replaced by that copy — a file never synced is gone. This is the
 * worst a power cut may leave under POSIX (a real disk may keep more, never less). Then the server
 * starts without the shim on what is left and every acknowledged create is looked up.
 * Alternatives weighed: dm-log-writes/replay-log is not installed here; dropping the page cache
 * (echo 3 > drop_caches) never discards dirty pages, it writes them; a tmpfs has no power to lose.
 */
describe('durability under simulated power loss (sqlite)', () => {
  let shim = '';
  let work = '';
  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-powerloss-'));
    shim = path.join(work, 'power-loss-shim.so');
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, SHIM_SOURCE, '-ldl']);
  });
  after(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  /** Runs a create storm on a server with the shim, cuts the power, restarts; returns acknowledged and lost creates. */
  async function powerCut(synchronous: 'FULL' | 'NORMAL', t: { diagnostic(msg: string): void }, target = 3000): Promise<{ acked: number; lost: string[] }> {
    const dataDir = mkdtempSync(path.join(work, `data-${synchronous}-`));
    const env = { LD_PRELOAD: shim, POWERLOSS_DIR: dataDir, BERTH_SQLITE_SYNCHRONOUS: synchronous };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    let server: BerthServer | undefined;
    try {
      try {
        server = await startBerth({ store: 'sqlite', dataDir });
      } finally {
        // Only the first launch runs with the shim and the level under test; the restart after the
        // power cut runs the server as shipped.
        for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
      }
      const made = await server.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
      assert.equal(made.status, 201, made.body.toString());
      const storm = createStorm(server, NS, 'pl', 8);
      const deadline = Date.now() + 60_000;
      // Long enough for SQLite to checkpoint the WAL at least once (1,000 pages), so NORMAL has
      // synced history to fall back to, and writes after it that were never synced.
      while (storm.acked.length < target && Date.now() < deadline) await sleep(10);
      await sleep(Math.random() * 20);
      await server.kill9();
      await storm.stop();
      assert.deepEqual(storm.refused.slice(0, 5), [], 'non-201 answers');
      // The power cut: each store file becomes what it held at its last fsync.
      for (const f of readdirSync(dataDir)) {
        if (!f.startsWith('state.db') || f.endsWith('.durable') || f.endsWith('.durable.tmp')) continue;
        const file = path.join(dataDir, f);
        if (existsSync(`${file}.durable`) && !f.endsWith('-shm')) renameSync(`${file}.durable`, file);
        else rmSync(file);
      }
      for (const f of readdirSync(dataDir)) if (f.includes('.durable')) rmSync(path.join(dataDir, f));
      await server.restart();
      const present = await listNames(server, NS);
      const lost = storm.acked.filter((n) => !present.has(n));
      t.diagnostic(`synchronous=${synchronous}: ${storm.acked.length} creates acknowledged; after the power cut ${present.size} present, ${lost.length} acknowledged lost`);
      return { acked: storm.acked.length, lost };
    } finally {
      await server?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  it('synchronous=FULL (the default): nothing acknowledged is lost', { timeout: 240_000 }, async (t) => {
    const { acked, lost } = await powerCut('FULL', t);
    assert.ok(acked > 500, `only ${acked} creates acknowledged`);
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} of ${acked} acknowledged creates lost`);
  });

  it('synchronous=NORMAL: acknowledged creates are lost (the simulation can see a loss)', { timeout: 600_000 }, async (t) => {
    // NORMAL loses what came after the WAL's last sync (a checkpoint); a cut that lands just after
    // one loses nothing (seen once in CI: 0 of 3,037). Up to three cuts at different points.
    const tried: string[] = [];
    for (const target of [3000, 2300, 3700]) {
      const { acked, lost } = await powerCut('NORMAL', t, target);
      assert.ok(acked > 500, `only ${acked} creates acknowledged`);
      tried.push(`${lost.length} of ${acked}`);
      if (lost.length > 0) return;
    }
    assert.fail(`NORMAL lost no acknowledged create in three power cuts (${tried.join(', ')} lost)`);
  });
});

/**
 * A full disk: the server's data dir is a small tmpfs (mounted here, removed at the end). Once a
 * filler file has taken every free byte, creates fail with a clear 5xx Status while reads go on;
 * after the filler is removed, creates work again, every acknowledged create is there, and the
 * store passes SQLite's integrity check.
 */
describe('durability when the disk fills up (sqlite)', () => {
  let mnt = '';
  before(() => {
    mnt = mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-diskfull-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mnt]);
  });
  after(() => {
    if (!mnt) return;
    try { execFileSync('umount', ['-l', mnt]); } catch { /* not mounted */ }
    rmSync(mnt, { recursive: true, force: true });
  });

  it('writes fail with a 500 Status saying the store is out of space, reads go on, and all recovers', { timeout: 240_000 }, async (t) => {
    const dataDir = path.join(mnt, 'data');
    const server = await startBerth({ store: 'sqlite', dataDir });
    const filler = path.join(mnt, 'filler');
    try {
      const made = await server.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
      assert.equal(made.status, 201, made.body.toString());
      const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { pad: 'x'.repeat(2000) } });
      const acked: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await server.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: cm(`before-${i}`) });
        assert.equal(r.status, 201, r.body.toString());
        acked.push(`before-${i}`);
      }
      // Take every free byte.
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(1 << 20, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        closeSync(fd);
      }
      // Creates now fail once the WAL needs a page it cannot have (it may first reuse free space).
      let failure: { status: number; json: any } | undefined;
      for (let i = 0; i < 3000 && !failure; i++) {
        const r = await server.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: cm(`full-${i}`) });
        if (r.status === 201) acked.push(`full-${i}`);
        else failure = r;
      }
      assert.ok(failure, 'no create failed although the disk is full');
      t.diagnostic(`disk full: ${failure.status} ${failure.json?.reason}: ${failure.json?.message}`);
      assert.equal(failure.status, 500);
      assert.equal(failure.json?.kind, 'Status');
      assert.match(failure.json?.message, /out of space/);
      // Reads are served meanwhile.
      const got = await server.request('GET', `/api/v1/namespaces/${NS}/configmaps/before-0`);
      assert.equal(got.status, 200);
      assert.ok((await listNames(server, NS)).has('before-19'));
      // Space returns: writes work again.
      rmSync(filler);
      const again = await server.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { body: cm('after-space') });
      assert.equal(again.status, 201, again.body.toString());
      acked.push('after-space');
      await server.restart();
      const present = await listNames(server, NS);
      assert.deepEqual(acked.filter((n) => !present.has(n)), [], 'acknowledged creates lost');
      await server.stop();
      const db = new Database(path.join(dataDir, 'state.db'), { readonly: true });
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      } finally {
        db.close();
      }
    } finally {
      rmSync(filler, { force: true });
      await server.cleanup();
    }
  });
});
