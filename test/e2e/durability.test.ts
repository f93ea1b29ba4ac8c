/**
 * Durability of the SQLite store: objects survive a clean restart, and every create the server
 * acknowledged (201) before a `kill -9` is present after restarting.
 * Run: node --import tsx --test test/e2e/durability.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';

const NS = 'e2e-dur';

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
});
