/** The HTTP client's failover between several servers, against two real API servers on one etcd. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startEtcd, type TestEtcd } from '../../test/support/etcd.ts';
import { startServer, type RunningServer } from '../server/berth-server.ts';
import { createLogger } from '../util/log.ts';
import { R } from './client.ts';
import { HttpClient } from './http-client.ts';
import { loadKubeconfig, SERVERS_EXTENSION } from './kubeconfig-load.ts';

const log = createLogger({ level: 'warn' });
const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { a: '1' } });

/** A port nothing listens on (bound, then closed). */
async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('HttpClient with several servers', () => {
  let etcd: TestEtcd;
  let root: string;
  let a: RunningServer;
  let b: RunningServer;

  before(async () => {
    etcd = await startEtcd();
    root = await mkdtemp(join(tmpdir(), 'berth-failover-'));
    a = await startServer({ dataDir: join(root, 'a'), host: '127.0.0.1', port: 0, store: `etcd://${etcd.endpoint}`, log });
    // The second server of the cluster joins with the first one's server token (cluster-pki-seal.ts).
    b = await startServer({ dataDir: join(root, 'b'), host: '127.0.0.1', port: 0, store: `etcd://${etcd.endpoint}`, log, serverToken: readFileSync(join(root, 'a', 'server-token'), 'utf8') });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await etcd?.stop();
    await rm(root, { recursive: true, force: true });
  });

  /** A's admin credential (the CA is shared, so it works on B too) with the servers given. */
  const clientFor = (servers: string[], opts: ConstructorParameters<typeof HttpClient>[1] = {}) => {
    const conn = loadKubeconfig(a.kubeconfigPath);
    return new HttpClient({ ...conn, server: servers[0], servers }, opts);
  };

  it('reads the server list from the kubeconfig extension; kubectl-only kubeconfigs have none', async () => {
    const conn = loadKubeconfig(a.kubeconfigPath);
    assert.equal(conn.servers, undefined);
    const path = join(root, 'multi.kubeconfig');
    await writeFile(path, stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: a.url, extensions: [{ name: SERVERS_EXTENSION, extension: { servers: [a.url, `${b.url}/`] } }] } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }], users: [{ name: 'u', user: { token: 't' } }],
    }));
    const multi = loadKubeconfig(path);
    assert.deepEqual(multi.servers, [a.url, b.url]);
    assert.deepEqual(new HttpClient(multi).servers, [a.url, b.url]);
  });

  it('a first server that refuses connections: requests go to the next, and stay there', async () => {
    const dead = `https://127.0.0.1:${await refusedPort()}`;
    const moves: string[] = [];
    const c = clientFor([dead, b.url], { onFailover: (from, to) => moves.push(`${from} -> ${to}`) });
    try {
      await c.create(R.configmaps, 'default', configMap('via-next'));
      assert.equal(c.server, b.url);
      assert.equal((await c.get(R.configmaps, 'default', 'via-next')).data.a, '1');
      assert.deepEqual(moves, [`${dead} -> ${b.url}`], 'moved once, then stayed');
    } finally {
      c.close();
    }
  });

  it('a server that answers nothing: a read moves on after the timeout, a write is failed to its caller (it may have happened)', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentUrl = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const writer = clientFor([silentUrl, b.url], { timeoutMs: 500 });
      await assert.rejects(writer.create(R.configmaps, 'default', configMap('maybe')), /timed out after 500 ms/);
      // The write was not sent again elsewhere…
      const direct = clientFor([b.url]);
      await assert.rejects(direct.get(R.configmaps, 'default', 'maybe'), /not found/);
      direct.close();
      // …but the client moved on: the next request goes to b.
      assert.equal(writer.server, b.url);
      writer.close();
      const reader = clientFor([silentUrl, b.url], { timeoutMs: 500 });
      const list = await reader.list(R.configmaps, 'default');
      assert.ok(list.items.some((i) => i.metadata.name === 'via-next'));
      reader.close();
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a server that stops: its watch ends, the next request and watch go to the other server, which sees every write', async () => {
    // A third server to lose (A and B stay for the other tests' sake).
    const c3 = await startServer({ dataDir: join(root, 'c3'), host: '127.0.0.1', port: 0, store: `etcd://${etcd.endpoint}`, log, serverToken: readFileSync(join(root, 'a', 'server-token'), 'utf8') });
    const c = clientFor([c3.url, b.url]);
    try {
      const list = await c.list(R.configmaps, 'default');
      const w1 = await c.watch(R.configmaps, 'default', { resourceVersion: list.resourceVersion }, () => undefined);
      await c.create(R.configmaps, 'default', configMap('before-stop'));
      assert.equal(c.server, c3.url);
      await c3.stop();
      await w1.done; // the stream ended with its server
      await c.create(R.configmaps, 'default', configMap('after-stop'));
      assert.equal(c.server, b.url);
      const seen2: string[] = [];
      const w2 = await c.watch(R.configmaps, 'default', { resourceVersion: list.resourceVersion }, (ev) => seen2.push(`${ev.type} ${ev.object.metadata.name}`));
      const deadline = Date.now() + 5000;
      while (!seen2.includes('ADDED after-stop') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      w2.close();
      assert.ok(seen2.includes('ADDED before-stop') && seen2.includes('ADDED after-stop'), seen2.join(', '));
    } finally {
      c.close();
      await c3.stop();
    }
  });
});
