import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCommand } from './backend.ts';
import { hostGwPlan } from './host-gw.ts';

const peers = [
  { name: 'a', podCidr: '10.42.1.0/24', nodeIP: '198.18.0.2' },
  { name: 'b', podCidr: '10.42.2.0/24', nodeIP: '198.18.0.3' },
];

test('host-gw: a route per peer from nothing', () => {
  assert.deepEqual(hostGwPlan(peers, []).map(formatCommand), [
    'ip route replace 10.42.1.0/24 via 198.18.0.2 proto 66',
    'ip route replace 10.42.2.0/24 via 198.18.0.3 proto 66',
  ]);
});

test('host-gw: nothing to do when the kernel matches; a moved node is replaced; a gone one deleted', () => {
  assert.deepEqual(hostGwPlan(peers, [{ dst: '10.42.1.0/24', gateway: '198.18.0.2' }, { dst: '10.42.2.0/24', gateway: '198.18.0.3' }]), []);
  assert.deepEqual(hostGwPlan([peers[0]!, { ...peers[1]!, nodeIP: '198.18.0.9' }], [
    { dst: '10.42.1.0/24', gateway: '198.18.0.2' }, { dst: '10.42.2.0/24', gateway: '198.18.0.3' }, { dst: '10.42.7.0/24', gateway: '198.18.0.7' },
  ]).map(formatCommand), [
    'ip route replace 10.42.2.0/24 via 198.18.0.9 proto 66',
    'ip route del 10.42.7.0/24 proto 66',
  ]);
  // A vxlan route left by an earlier backend (next hop a VTEP) becomes a host-gw one.
  assert.deepEqual(hostGwPlan([peers[0]!], [{ dst: '10.42.1.0/24', gateway: '10.42.1.0', dev: 'berth.1' }]).map(formatCommand), ['ip route replace 10.42.1.0/24 via 198.18.0.2 proto 66']);
  assert.deepEqual(hostGwPlan([], [{ dst: '10.42.1.0/24', gateway: '198.18.0.2' }]).map(formatCommand), ['ip route del 10.42.1.0/24 proto 66']);
});
