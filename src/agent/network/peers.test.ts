import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peersFromNodes, PUBLIC_IP_ANNOTATION, VXLAN_MAC_ANNOTATION } from './peers.ts';

const node = (name: string, podCIDR?: string, ip?: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, annotations },
  spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
  status: { addresses: ip ? [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] : [] },
});

test('peers: every other node with a range inside the cluster CIDR and an address, sorted', () => {
  const peers = peersFromNodes([
    node('n3', '10.42.3.0/24', '198.18.0.4', { [VXLAN_MAC_ANNOTATION]: '0A:0B:0C:0D:0E:0F' }),
    node('self', '10.42.1.0/24', '198.18.0.2'),
    node('n2', '10.42.2.0/24', '198.18.0.3', { [PUBLIC_IP_ANNOTATION]: '198.19.0.3' }),
    node('no-range', undefined, '198.18.0.5'),
    node('no-address', '10.42.5.0/24'),
    node('outside', '10.240.0.0/25', '10.224.0.1'),
    node('whole-cluster', '10.42.0.0/16', '198.18.0.9'),
    node('bad-mac', '10.42.6.0/24', '198.18.0.6', { [VXLAN_MAC_ANNOTATION]: 'nope' }),
  ], 'self', '10.42.0.0/16');
  assert.deepEqual(peers, [
    { name: 'bad-mac', podCidr: '10.42.6.0/24', nodeIP: '198.18.0.6' },
    { name: 'n2', podCidr: '10.42.2.0/24', nodeIP: '198.19.0.3' },
    { name: 'n3', podCidr: '10.42.3.0/24', nodeIP: '198.18.0.4', vtepMac: '0a:0b:0c:0d:0e:0f' },
  ]);
});

test('a deleting node is no peer', () => {
  const n = node('going', '10.42.7.0/24', '198.18.0.7');
  (n.metadata as Record<string, unknown>).deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.deepEqual(peersFromNodes([n], 'self', '10.42.0.0/16'), []);
});
