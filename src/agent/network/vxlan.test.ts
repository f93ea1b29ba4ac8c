import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCommand } from './backend.ts';
import { vtepIP, vxlanDevice, vxlanPlan } from './vxlan.ts';

const A = { name: 'a', podCidr: '10.42.1.0/24', nodeIP: '198.18.0.2', vtepMac: '0a:00:00:00:00:01' };
const B = { name: 'b', podCidr: '10.42.2.0/24', nodeIP: '198.18.0.3', vtepMac: '0a:00:00:00:00:02' };

test('device names and VTEP addresses', () => {
  assert.equal(vxlanDevice('berth0'), 'berth.1');
  assert.equal(vxlanDevice('labpods0'), 'labpods0.1');
  assert.ok(vxlanDevice('averyverylongbridge').length <= 15);
  assert.equal(vtepIP('10.42.7.0/24'), '10.42.7.0');
});

test('vxlan: fdb, neighbour and route per peer, in that order; a peer without a MAC is skipped', () => {
  const plan = vxlanPlan('berth.1', [A, B, { name: 'c', podCidr: '10.42.3.0/24', nodeIP: '198.18.0.4' }], { routes: [], neighs: [], fdb: [] }).map(formatCommand);
  assert.deepEqual(plan, [
    'bridge fdb replace 0a:00:00:00:00:01 dev berth.1 dst 198.18.0.2 self permanent',
    'bridge fdb replace 0a:00:00:00:00:02 dev berth.1 dst 198.18.0.3 self permanent',
    'ip neigh replace 10.42.1.0 lladdr 0a:00:00:00:00:01 dev berth.1 nud permanent',
    'ip neigh replace 10.42.2.0 lladdr 0a:00:00:00:00:02 dev berth.1 nud permanent',
    'ip route replace 10.42.1.0/24 via 10.42.1.0 dev berth.1 onlink proto 66',
    'ip route replace 10.42.2.0/24 via 10.42.2.0 dev berth.1 onlink proto 66',
  ]);
});

test('vxlan: in sync is no command; a gone peer loses route, neighbour and fdb entry (in that order); a new MAC replaces', () => {
  const state = {
    routes: [{ dst: '10.42.1.0/24', gateway: '10.42.1.0', dev: 'berth.1' }, { dst: '10.42.2.0/24', gateway: '10.42.2.0', dev: 'berth.1' }],
    neighs: [{ dst: '10.42.1.0', lladdr: '0a:00:00:00:00:01' }, { dst: '10.42.2.0', lladdr: '0A:00:00:00:00:02' }],
    fdb: [{ mac: '0a:00:00:00:00:01', dst: '198.18.0.2' }, { mac: '0a:00:00:00:00:02', dst: '198.18.0.3' }],
  };
  assert.deepEqual(vxlanPlan('berth.1', [A, B], state), []);
  assert.deepEqual(vxlanPlan('berth.1', [A], state).map(formatCommand), [
    'ip route del 10.42.2.0/24 proto 66',
    'ip neigh del 10.42.2.0 dev berth.1',
    'bridge fdb del 0a:00:00:00:00:02 dev berth.1 dst 198.18.0.3 self',
  ]);
  // b's device was made again (new MAC): fdb and neighbour follow, the old MAC's entry goes.
  assert.deepEqual(vxlanPlan('berth.1', [A, { ...B, vtepMac: '0a:00:00:00:00:99' }], state).map(formatCommand), [
    'bridge fdb replace 0a:00:00:00:00:99 dev berth.1 dst 198.18.0.3 self permanent',
    'ip neigh replace 10.42.2.0 lladdr 0a:00:00:00:00:99 dev berth.1 nud permanent',
    'bridge fdb del 0a:00:00:00:00:02 dev berth.1 dst 198.18.0.3 self',
  ]);
});
