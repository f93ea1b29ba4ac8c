import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../client/client.ts';
import { InformerFactory } from '../../client/informer-factory.ts';
import { startTestEnv, waitFor, type TestEnv } from '../../controllers/control-plane.fixture.ts';
import type { NetCommand, NetworkBackend } from './backend.ts';
import { startNodeNetwork } from './node-network.ts';
import type { PeerNode } from './peers.ts';

/** A backend that records what it is asked (the kernel side has its own tests: host-gw, vxlan, e2e). */
class RecordingBackend implements NetworkBackend {
  readonly kind = 'host-gw' as const;
  synced: PeerNode[][] = [];
  removed = false;
  failNext = 0;
  async setup() { return { 'berth.dev/network-backend': 'host-gw', 'berth.dev/public-ip': '198.18.9.1' }; }
  async sync(peers: PeerNode[]): Promise<NetCommand[]> {
    if (this.failNext > 0) { this.failNext--; throw new Error('kernel said no'); }
    this.synced.push(peers);
    return [];
  }
  async remove() { this.removed = true; }
  get last(): string[] { return (this.synced.at(-1) ?? []).map((p) => `${p.name}=${p.podCidr}@${p.nodeIP}`); }
}

let env: TestEnv;
before(async () => { env = await startTestEnv(); });
after(() => env.close());

const node = (name: string, cidr: string, ip: string) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR: cidr, podCIDRs: [cidr] },
  status: { addresses: [{ type: 'InternalIP', address: ip }] },
});

test('syncs the peers at start, after Node changes and deletes; annotates its own Node; stop keeps, remove removes', async () => {
  await env.client.create(R.nodes, undefined, node('self', '10.80.1.0/24', '198.18.9.1'));
  await env.client.create(R.nodes, undefined, node('a', '10.80.2.0/24', '198.18.9.2'));
  const backend = new RecordingBackend();
  const informers = new InformerFactory(env.client);
  informers.start();
  const net = await startNodeNetwork({ client: env.client, informers, nodeName: 'self', clusterCidr: '10.80.0.0/16', backend, log: env.log, batchMs: 10 });
  try {
    assert.deepEqual(backend.last, ['a=10.80.2.0/24@198.18.9.2'], 'the full sync at start');
    const self = await env.client.get(R.nodes, undefined, 'self');
    assert.equal(self.metadata.annotations?.['berth.dev/public-ip'], '198.18.9.1');
    await env.client.create(R.nodes, undefined, node('b', '10.80.3.0/24', '198.18.9.3'));
    await waitFor(() => backend.last.length === 2, 'b added');
    assert.deepEqual(backend.last, ['a=10.80.2.0/24@198.18.9.2', 'b=10.80.3.0/24@198.18.9.3']);
    // An address change (another public-ip) follows; a failing sync is retried.
    backend.failNext = 1;
    await env.client.patch(R.nodes, undefined, 'b', 'merge', { metadata: { annotations: { 'berth.dev/public-ip': '198.18.9.33' } } });
    await waitFor(() => backend.last.includes('b=10.80.3.0/24@198.18.9.33'), 'b moved, after a retry', 5000);
    await env.client.delete(R.nodes, undefined, 'a');
    await waitFor(() => backend.last.length === 1, 'a removed');
    assert.deepEqual(backend.last, ['b=10.80.3.0/24@198.18.9.33']);
    net.stop();
    const count = backend.synced.length;
    await env.client.delete(R.nodes, undefined, 'b');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(backend.synced.length, count, 'a stopped agent changes nothing (its routes stay for the restart)');
    assert.equal(backend.removed, false);
    await net.remove();
    assert.equal(backend.removed, true);
  } finally {
    net.stop();
    informers.stop();
  }
});

test('a Node change that changes no peer (a status heartbeat) does not touch the kernel', async () => {
  await env.client.create(R.nodes, undefined, node('c', '10.80.4.0/24', '198.18.9.4'));
  const backend = new RecordingBackend();
  const informers = new InformerFactory(env.client);
  informers.start();
  await env.client.create(R.nodes, undefined, node('self2', '10.80.5.0/24', '198.18.9.5'));
  const net = await startNodeNetwork({ client: env.client, informers, nodeName: 'self2', clusterCidr: '10.80.0.0/16', backend, log: env.log, batchMs: 10 });
  try {
    const count = backend.synced.length;
    await env.client.patch(R.nodes, undefined, 'c', 'merge', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'status');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(backend.synced.length, count);
    // Asked for explicitly (tests, benchmarks), it syncs anyway.
    await net.synced();
    assert.equal(backend.synced.length, count + 1);
  } finally {
    net.stop();
    informers.stop();
  }
});
