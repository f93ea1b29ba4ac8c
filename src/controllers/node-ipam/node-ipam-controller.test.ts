import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../client/client.ts';
import { startControllerEnv, waitFor, type ControllerEnv } from '../control-plane.fixture.ts';
import { NodeIpamController } from './node-ipam-controller.ts';

let h: ControllerEnv<NodeIpamController>;

before(async () => {
  h = await startControllerEnv((e, f) => new NodeIpamController(e.client, f, e.log, { clusterCidr: '10.70.0.0/22', nodeCidrMaskSize: 24, serviceCidr: '10.70.3.0/24' }));
});
after(() => h.stop());

const node = (name: string, spec: object = {}) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec });
const cidrOf = async (name: string) => {
  const n = await h.env.client.get(R.nodes, undefined, name);
  return n.spec?.podCIDR ? `${n.spec.podCIDR}|${(n.spec.podCIDRs ?? []).join(',')}` : undefined;
};

test('a Node with a range keeps it; new Nodes get the free ones; the service range is never one', async () => {
  await h.env.client.create(R.nodes, undefined, node('has', { podCIDR: '10.70.0.0/24' }));
  await waitFor(() => h.ctl.allocated === 2, 'the existing range and the service range occupied');
  await h.env.client.create(R.nodes, undefined, node('a'));
  assert.equal(await waitFor(() => cidrOf('a'), 'a allocated'), '10.70.1.0/24|10.70.1.0/24');
  await h.env.client.create(R.nodes, undefined, node('b'));
  assert.equal(await waitFor(() => cidrOf('b'), 'b allocated'), '10.70.2.0/24|10.70.2.0/24');
  assert.equal(await cidrOf('has'), '10.70.0.0/24|10.70.0.0/24');
});

test('full: CIDRNotAvailable event; a deleted Node frees its range for the waiting one', async () => {
  await h.env.client.create(R.nodes, undefined, node('c'));
  const ev = await waitFor(async () => {
    const list = await h.env.client.list(R.events, 'default');
    return list.items.find((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject?.name === 'c');
  }, 'CIDRNotAvailable event');
  assert.equal(ev.message, 'Node c status is now: CIDRNotAvailable');
  assert.equal(await cidrOf('c'), undefined);
  await h.env.client.delete(R.nodes, undefined, 'a');
  assert.equal(await waitFor(() => cidrOf('c'), 'c allocated after a went', 15_000), '10.70.1.0/24|10.70.1.0/24');
});

test('a range outside the cluster CIDR is left alone and not counted', async () => {
  const before = h.ctl.allocated;
  await h.env.client.create(R.nodes, undefined, node('sim', { podCIDR: '10.240.0.0/25' }));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await cidrOf('sim'), '10.240.0.0/25|10.240.0.0/25');
  assert.equal(h.ctl.allocated, before);
});

test('a controller started later (a new leader) marks every existing range before allocating', async () => {
  const { InformerFactory } = await import('../../client/informer-factory.ts');
  const f = new InformerFactory(h.env.client);
  // A wider pool: has=0, c=1, b=2 and the service range 3 are taken, so 10.70.4.0/24 is the first
  // free one (the first controller, still running, has nothing left to give d).
  const second = new NodeIpamController(h.env.client, f, h.env.log, { clusterCidr: '10.70.0.0/21', nodeCidrMaskSize: 24, serviceCidr: '10.70.3.0/24' });
  f.start();
  await f.waitForSync();
  const running = second.run(1);
  try {
    await h.env.client.create(R.nodes, undefined, node('d'));
    assert.equal(await waitFor(() => cidrOf('d'), 'd allocated'), '10.70.4.0/24|10.70.4.0/24');
  } finally {
    await running.stop();
    f.stop();
  }
});
