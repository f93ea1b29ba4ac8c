/**
 * The Client contract over a MessagePort (PortClient ⇄ servePort onto the in-process client), plus
 * what the port adds: Status across the port, watch events as the registry's JSON, and ends.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { startServer, type RunningServer } from '../server/berth-server.ts';
import { createLogger } from '../util/log.ts';
import { runClientSuite } from './client.case.ts';
import { LocalClient } from './local-client.ts';
import { PortClient } from './port-client.ts';
import { servePort, type PortServer } from './port-server.ts';
import { R, type Client, type ClientWatchEvent } from './client.ts';
import { HttpStatusError, isNotFound } from './errors.ts';
import type { UserInfo } from '../auth/attributes.ts';
import type { KubeObject } from '../apis/object.ts';
import type { ToClient, ToServer } from './port-protocol.ts';

async function portOnto(serving: Client): Promise<{ client: PortClient; server: PortServer; close(): void }> {
  const { port1, port2 } = new MessageChannel();
  const server = servePort(port1, serving);
  const client = new PortClient(port2);
  return { client, server, close() { client.close(); server.close(); port2.close(); } };
}

async function startTestServer(): Promise<{ server: RunningServer; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-port-client-'));
  const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'warn' }) });
  return { server, async stop() { await server.stop(); await rm(dataDir, { recursive: true, force: true }); } };
}

runClientSuite('PortClient', async () => {
  const s = await startTestServer();
  const p = await portOnto(new LocalClient(s.server.registry));
  return { client: p.client, async stop() { p.close(); await s.stop(); } };
});

describe('PortClient over the port', () => {
  let s: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => { s = await startTestServer(); });
  after(async () => { await s?.stop(); });

  it('keeps the Status of an error: code, reason, message, details; and 403 for a user without the right', async () => {
    const p = await portOnto(new LocalClient(s.server.registry));
    try {
      const err = await p.client.get(R.configmaps, 'default', 'missing').catch((e: unknown) => e);
      assert.ok(err instanceof HttpStatusError);
      assert.ok(isNotFound(err));
      assert.equal(err.code, 404);
      assert.equal(err.message, 'configmaps "missing" not found');
      assert.deepEqual({ name: err.details?.name, kind: err.details?.kind }, { name: 'missing', kind: 'configmaps' });
      const invalid = await p.client.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } }).catch((e: unknown) => e) as HttpStatusError;
      assert.equal(invalid.code, 422);
      assert.equal(invalid.reason, 'Invalid');
      assert.ok(invalid.details?.causes?.length, 'the field causes cross too');
    } finally { p.close(); }
    const nobody: UserInfo = { name: 'nobody', groups: ['system:authenticated'] };
    const q = await portOnto(new LocalClient(s.server.registry).as({ user: nobody, authorizer: s.server.authorizer }));
    try {
      const err = await q.client.list(R.secrets, 'default').catch((e: unknown) => e) as HttpStatusError;
      assert.equal(err.code, 403);
      assert.equal(err.reason, 'Forbidden');
      assert.match(err.message, /User "nobody" cannot list resource "secrets"/);
    } finally { q.close(); }
  });

  it('sends watch events as the registry\'s JSON, decoded in the receiving thread into fresh objects', async () => {
    const local = new LocalClient(s.server.registry);
    const p = await portOnto(local);
    try {
      const sent: string[] = [];
      // What the serving side handed the port: spy on the client it serves from.
      const spying: Client = Object.assign(Object.create(local) as Client, {
        watch: (...a: Parameters<Client['watch']>) => local.watch(a[0], a[1], a[2], (ev) => { sent.push((ev as { raw?: string }).raw ?? ''); a[3](ev); }),
      });
      const q = await portOnto(spying);
      const start = await local.list(R.configmaps, 'default');
      const got: ClientWatchEvent[] = [];
      const w = await q.client.watch(R.configmaps, 'default', { resourceVersion: start.resourceVersion }, (ev) => got.push(ev));
      const created = await local.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' }, data: { a: '1' } });
      const deadline = Date.now() + 5000;
      while (!got.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(got[0]?.type, 'ADDED');
      assert.deepEqual(got[0]!.object, created);
      assert.ok(sent[0]?.startsWith('{'), 'the registry\'s serialized bytes were sent');
      assert.deepEqual(JSON.parse(sent[0]!), created);
      assert.equal(q.server.watches, 1);
      w.close();
      await w.done;
      const until = Date.now() + 5000;
      while (q.server.watches && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.equal(q.server.watches, 0, 'closing on the client ends the serving watch');
      q.close();
    } finally { p.close(); }
  });

  it('sends lists as the registry\'s JSON text, decoded in the receiving thread; a Client without listJson still lists', async () => {
    const local = new LocalClient(s.server.registry);
    for (let i = 0; i < 5; i++) {
      await local.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `listed-${i}`, labels: { listed: i % 2 ? 'odd' : 'even' } }, data: { i: String(i) } });
    }
    let decodedLists = 0;
    const spying = Object.assign(Object.create(local) as LocalClient, {
      list: (...a: Parameters<Client['list']>) => { decodedLists++; return local.list(...a); },
    });
    const { port1, port2 } = new MessageChannel();
    const replies: ToClient[] = [];
    port2.on('message', (batch: ToClient[]) => { replies.push(...batch); });
    const server = servePort(port1, spying);
    const client = new PortClient(port2);
    try {
      const want = await local.list(R.configmaps, 'default', { labelSelector: 'listed' });
      const got = await client.list(R.configmaps, 'default', { labelSelector: 'listed' });
      assert.equal(decodedLists, 0, 'the serving side did not list objects');
      const reply = replies.find((r) => 'ok' in r && r.ok && (r.value as { itemsJson?: unknown } | undefined)?.itemsJson !== undefined);
      assert.ok(reply, 'the reply carried the items as JSON text');
      assert.equal(got.items.length, 5);
      assert.deepEqual(got, want);
      // Paged and filtered: the same pages as the local client's, continue included.
      const p1 = await client.list(R.configmaps, 'default', { labelSelector: 'listed=even', limit: 2 });
      const l1 = await local.list(R.configmaps, 'default', { labelSelector: 'listed=even', limit: 2 });
      assert.deepEqual(p1, l1);
      assert.ok(p1.continue);
      const p2 = await client.list(R.configmaps, 'default', { labelSelector: 'listed=even', limit: 2, continue: p1.continue });
      assert.deepEqual(p2.items.map((o) => o.metadata.name), ['listed-4']);
      assert.equal(p2.continue, undefined);
      // A served Client that has only the Client methods answers with objects, as before.
      const plain: Client = { get: local.get.bind(local), list: local.list.bind(local), watch: local.watch.bind(local), create: local.create.bind(local),
        update: local.update.bind(local), patch: local.patch.bind(local), delete: local.delete.bind(local) };
      const q = await portOnto(plain);
      try { assert.deepEqual(await q.client.list(R.configmaps, 'default', { labelSelector: 'listed' }), want); } finally { q.close(); }
      // Refused and bad requests keep their Status.
      const bad = await client.list(R.configmaps, 'default', { labelSelector: '!!' }).catch((e: unknown) => e) as HttpStatusError;
      assert.equal(bad.code, 400);
    } finally { client.close(); server.close(); port2.close(); }
  });

  it('createMany: many creates in one request, one reply naming only the failures (each its Status)', async () => {
    const local = new LocalClient(s.server.registry);
    let creates = 0;
    const counting: Client = Object.assign(Object.create(local) as Client, {
      create: (...a: Parameters<Client['create']>) => { creates++; return local.create(...a); },
    });
    const { port1, port2 } = new MessageChannel();
    // What crosses to the serving side: every request of every posted batch.
    const requests: ToServer[] = [];
    port1.on('message', (batch: ToServer[]) => { requests.push(...batch); });
    const server = servePort(port1, counting);
    const client = new PortClient(port2);
    try {
      const event = (name: string, ns = 'default'): KubeObject => ({
        apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: ns },
        involvedObject: { kind: 'Pod', namespace: ns, name: 'p' }, reason: 'Scheduled', message: name, type: 'Normal',
      });
      const items = Array.from({ length: 300 }, (_v, i) => ({ namespace: 'default', object: event(`batch-${i}`) }));
      items[7] = { namespace: 'default', object: { ...event('nameless'), metadata: { namespace: 'default' } } };
      items[8] = { namespace: 'default', object: event('batch-0') };
      const results = await client.createMany(R.events, items);
      assert.equal(results.length, 300);
      assert.equal(requests.filter((r) => 'op' in r && r.op === 'createMany').length, 1, 'one request');
      assert.equal(requests.filter((r) => 'op' in r && r.op === 'create').length, 0);
      assert.equal(creates, 300, 'the serving side created each');
      assert.equal(results[7]?.code, 422);
      assert.equal(results[7]?.reason, 'Invalid');
      // batch-0 twice in one batch: exactly one of the two creates wins, the other is 409.
      const dup = [results[0], results[8]];
      assert.equal(dup.filter((e) => e === undefined).length, 1);
      assert.equal(dup.find((e) => e)?.code, 409);
      assert.equal(results.filter((e) => e).length, 2);
      const listed = await local.list(R.events, 'default');
      const names = new Set(listed.items.map((e) => e.metadata.name));
      for (let i = 0; i < 300; i++) if (i !== 7 && i !== 8) assert.ok(names.has(`batch-${i}`), `batch-${i} stored`);
      // An empty batch asks nothing; malformed items get a 400 each, the good ones are created.
      assert.deepEqual(await client.createMany(R.events, []), []);
      const raw = await new Promise<ToClient>((resolve) => {
        const { port1: a, port2: b } = new MessageChannel();
        const srv = servePort(a, local);
        b.on('message', (batch: ToClient[]) => { resolve(batch[0]!); srv.close(); b.close(); });
        b.postMessage([{ id: 1, op: 'createMany', args: [R.events, ['nope', ['default', event('raw-ok')]]] }]);
      });
      assert.ok('ok' in raw && raw.ok);
      const failures = (raw as { value: [number, { code: number; reason: string }][] }).value;
      assert.deepEqual(failures.map(([i, st]) => [i, st.code, st.reason]), [[0, 400, 'BadRequest']]);
      await local.get(R.events, 'default', 'raw-ok');
    } finally { client.close(); server.close(); port2.close(); }
  });

  it('createMany on a closed client fails every item with the port\'s 500', async () => {
    const p = await portOnto(new LocalClient(s.server.registry));
    p.close();
    const results = await p.client.createMany(R.events, [{ namespace: 'default', object: { apiVersion: 'v1', kind: 'Event', metadata: { name: 'x' } } }]);
    assert.equal(results[0]?.code, 500);
  });

  it('ends watches and fails calls in flight when the serving side closes', async () => {
    const p = await portOnto(new LocalClient(s.server.registry));
    const w = await p.client.watch(R.configmaps, 'default', {}, () => {});
    p.server.close();
    await w.done;
    await assert.rejects(p.client.get(R.configmaps, 'default', 'x'), (e: HttpStatusError) => e.code === 500);
    p.close();
  });
});
