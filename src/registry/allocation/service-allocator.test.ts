import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/berth-server.ts';
import { LocalClient } from '../../client/local-client.ts';
import { R } from '../../client/client.ts';
import { createLogger } from '../../util/log.ts';
import type { KubeObject } from '../../apis/object.ts';
import { AllocationStore } from './allocation-store.ts';
import { CLUSTER_IP_POOL, NODE_PORT_POOL, ServiceAllocator, parseNodePortRange } from './service-allocator.ts';
import { repairServiceAllocations } from './allocation-repair.ts';
import { ipToInt } from '../../apis/cidr.ts';

const svc = (name: string, spec: any): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
const port = (p = 80, extra: any = {}) => ({ port: p, ...extra });

async function invalid(p: Promise<unknown>): Promise<{ message: string; causes: { field: string; message: string }[] }> {
  const err = await p.then(() => undefined, (e) => e);
  assert.ok(err, 'expected a 422');
  assert.equal(err.http, 422, String(err.message));
  assert.equal(err.reason, 'Invalid');
  return { message: err.message, causes: err.details?.causes ?? [] };
}

describe('service allocation (ClusterIP and NodePort) through the real store', () => {
  let dataDir: string;
  let server: RunningServer;
  let client: LocalClient;
  const log = createLogger({ level: 'error' });
  const start = async () => {
    server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log, serviceCidr: '10.99.0.0/24', nodePortRange: '30000-30019' });
    client = new LocalClient(server.registry);
  };
  before(async () => { dataDir = await mkdtemp(join(tmpdir(), 'berth-alloc-')); await start(); });
  after(async () => { await server.stop(); await rm(dataDir, { recursive: true, force: true }); });

  test('a ClusterIP service gets a free address from the range; headless and ExternalName get none', async () => {
    const a = await client.create(R.services, 'default', svc('a', { ports: [port()] }));
    assert.match(a.spec.clusterIP, /^10\.99\.0\.\d+$/);
    assert.deepEqual(a.spec.clusterIPs, [a.spec.clusterIP]);
    assert.ok(ipToInt(a.spec.clusterIP) >= ipToInt('10.99.0.17'), 'dynamic values come from above the static band');
    const h = await client.create(R.services, 'default', svc('h', { clusterIP: 'None', ports: [port()] }));
    assert.equal(h.spec.clusterIP, 'None');
    const e = await client.create(R.services, 'default', svc('e', { type: 'ExternalName', externalName: 'db.example.test' }));
    assert.equal(e.spec.clusterIP, undefined);
    const read = await client.get(R.services, 'default', 'a');
    assert.equal(read.spec.clusterIP, a.spec.clusterIP, 'stored as returned');
  });

  test('a requested address is honoured when free and refused with a 422 when taken or out of range', async () => {
    const s = await client.create(R.services, 'default', svc('fixed', { clusterIP: '10.99.0.10', ports: [port()] }));
    assert.equal(s.spec.clusterIP, '10.99.0.10');
    const taken = await invalid(client.create(R.services, 'default', svc('fixed2', { clusterIP: '10.99.0.10', ports: [port()] })));
    assert.match(taken.message, /spec\.clusterIPs: Invalid value: \[\]string\{"10\.99\.0\.10"\}: failed to allocate IP 10\.99\.0\.10: provided IP is already allocated/);
    const outside = await invalid(client.create(R.services, 'default', svc('far', { clusterIP: '10.98.0.5', ports: [port()] })));
    assert.match(outside.message, /not in the valid range\. The range of valid IPs is 10\.99\.0\.0\/24/);
    await assert.rejects(client.get(R.services, 'default', 'far'), /not found/, 'nothing half-written');
  });

  test('NodePorts: allocated, honoured, refused when duplicate or out of range, and released on delete', async () => {
    const np = await client.create(R.services, 'default', svc('np', { type: 'NodePort', ports: [port(80, { name: 'http' }), port(443, { name: 'https', nodePort: 30001 })] }));
    const [p0, p1] = np.spec.ports;
    assert.ok(p0.nodePort >= 30000 && p0.nodePort <= 30019);
    assert.equal(p1.nodePort, 30001);
    const dup = await invalid(client.create(R.services, 'default', svc('np2', { type: 'NodePort', ports: [port(80, { nodePort: 30001 })] })));
    assert.match(dup.message, /spec\.ports\[0\]\.nodePort: Invalid value: 30001: provided port is already allocated/);
    const range = await invalid(client.create(R.services, 'default', svc('np3', { type: 'NodePort', ports: [port(80, { nodePort: 31000 })] })));
    assert.match(range.message, /provided port is not in the valid range\. The range of valid ports is 30000-30019/);
    // The failed creates rolled back: their ClusterIPs are free again (only a/fixed/np hold one,
    // besides the API server's own default/kubernetes at the first address).
    const store = new AllocationStore(server.backend);
    const ips = (await store.list(CLUSTER_IP_POOL)).map((a) => a.owner.name).sort();
    assert.deepEqual(ips, ['a', 'fixed', 'kubernetes', 'np']);
    await client.delete(R.services, 'default', 'np');
    assert.equal(await store.get(NODE_PORT_POOL, '30001'), undefined, 'released on delete');
    const again = await client.create(R.services, 'default', svc('np4', { type: 'NodePort', ports: [port(80, { nodePort: 30001 })] }));
    assert.equal(again.spec.ports[0].nodePort, 30001);
  });

  test('updates keep allocated values, allocate for new ports and release what is no longer used', async () => {
    const s = await client.create(R.services, 'default', svc('upd', { type: 'NodePort', ports: [port(80, { name: 'a' }), port(81, { name: 'b' })] }));
    const [np80, np81] = s.spec.ports.map((p: any) => p.nodePort);
    // A replace that omits clusterIP and nodePorts (as kubectl apply does) keeps them.
    const replaced = await client.update(R.services, 'default', svc('upd', { type: 'NodePort', ports: [port(80, { name: 'a' }), port(82, { name: 'c' })] }));
    assert.equal(replaced.spec.clusterIP, s.spec.clusterIP);
    assert.equal(replaced.spec.ports[0].nodePort, np80);
    const store = new AllocationStore(server.backend);
    assert.equal(await store.get(NODE_PORT_POOL, String(np81)), undefined, 'the dropped port was released');
    assert.equal((await store.get(NODE_PORT_POOL, String(replaced.spec.ports[1].nodePort)))?.owner.name, 'upd');
    // NodePort → ClusterIP releases every node port.
    const cip = await client.update(R.services, 'default', svc('upd', { type: 'ClusterIP', ports: [port(80, { name: 'a' })] }));
    assert.equal(cip.spec.ports[0].nodePort, undefined);
    assert.equal(await store.get(NODE_PORT_POOL, String(np80)), undefined);
  });

  test('the range running full is a clear error', async () => {
    const names: string[] = [];
    let err: Error | undefined;
    for (let i = 0; i < 25 && !err; i++) {
      try { await client.create(R.services, 'default', svc(`full-${i}`, { type: 'NodePort', ports: [port()] })); names.push(`full-${i}`); } catch (e) { err = e as Error; }
    }
    assert.ok(err, 'the 20-port range must run out');
    assert.match(err!.message, /failed to allocate a nodePort: range is full/);
    for (const n of names) await client.delete(R.services, 'default', n);
  });

  test('allocations survive a restart, and repair returns leaked reservations and restores missing ones', async () => {
    const before = await client.get(R.services, 'default', 'a');
    await server.stop();
    await start();
    // The server's own repair at start must not restore the reservation released below before ours runs (CI, 2026-12-07).
    await server.allocationsRepaired;
    const dup = await invalid(client.create(R.services, 'default', svc('after', { clusterIP: before.spec.clusterIP, ports: [port()] })));
    assert.match(dup.message, /already allocated/);
    const store = new AllocationStore(server.backend);
    const alloc = new ServiceAllocator(store, { serviceCidr: '10.99.0.0/24', nodePortRange: '30000-30019' });
    // A crash between reserving and writing leaves a reservation without a Service.
    await store.reserve(CLUSTER_IP_POOL, '10.99.0.200', { namespace: 'default', name: 'ghost', uid: 'gone' });
    // A Service whose reservation was lost.
    await store.release(CLUSTER_IP_POOL, before.spec.clusterIP, before.metadata.uid!);
    const young = await repairServiceAllocations(server.backend, alloc, 60_000);
    assert.equal(young.released, 0, 'young reservations are left alone');
    assert.equal(young.restored, 1);
    const old = await repairServiceAllocations(server.backend, alloc, 0);
    assert.equal(old.released, 1);
    assert.equal(await store.get(CLUSTER_IP_POOL, '10.99.0.200'), undefined);
    assert.equal((await store.get(CLUSTER_IP_POOL, before.spec.clusterIP))?.owner.uid, before.metadata.uid);
    assert.deepEqual(old.conflicts, []);
  });

  test('node port range parsing', () => {
    assert.deepEqual(parseNodePortRange('30000-32767'), { first: 30000, last: 32767 });
    assert.throws(() => parseNodePortRange('32767-30000'), /invalid node port range/);
    assert.throws(() => parseNodePortRange('abc'), /invalid node port range/);
  });
});
