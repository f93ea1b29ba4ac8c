import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCidrs, findCidrConflicts, type HostNetworks } from './host-guard.ts';

const host: HostNetworks = {
  addrs: [
    { ifname: 'lo', cidr: '127.0.0.0/8' },
    { ifname: 'eth0', cidr: '192.0.2.0/24' },
    { ifname: 'eth1', cidr: '10.88.3.0/24' },
    { ifname: 'berth0', cidr: '10.244.1.0/24' },
  ],
  routes: [
    { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
    { dst: '192.0.2.0/24', dev: 'eth0' },
    { dst: '10.88.3.0/24', dev: 'eth1' },
    { dst: '172.20.0.0/16', gateway: '192.0.2.9', dev: 'eth0' },
    { dst: '10.244.1.0/24', dev: 'berth0' },
    { dst: '10.96.0.0/16', dev: 'berth0' },
    { dst: '10.244.0.0/16', type: 'unreachable' },
  ],
  nameservers: ['10.255.255.53'],
};

test('names both ranges and the flag for an interface overlap', () => {
  const c = findCidrConflicts({ podCidr: '10.88.0.0/16' }, host);
  assert.deepEqual(c, ['pod CIDR 10.88.0.0/16 overlaps 10.88.3.0/24 on eth1; choose another with --pod-cidr']);
});

test('route overlaps (other than default) are conflicts; service CIDR gets its flag', () => {
  const c = findCidrConflicts({ podCidr: '10.200.0.0/16', serviceCidr: '172.20.5.0/24' }, host);
  assert.deepEqual(c, ['service CIDR 172.20.5.0/24 overlaps route 172.20.0.0/16 (via 192.0.2.9 dev eth0); choose another with --service-cidr']);
});

test("Berth's own bridge, service route and unreachable route are not conflicts", () => {
  assert.deepEqual(findCidrConflicts({ podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/16' }, host), []);
  // a different pod CIDR does not own the existing unreachable route
  assert.match(findCidrConflicts({ podCidr: '10.244.0.0/17' }, host).join('\n'), /overlaps route 10\.244\.0\.0\/16 \(unreachable\)/);
  // a non-Berth bridge name makes berth0 foreign
  assert.match(findCidrConflicts({ podCidr: '10.244.0.0/16', bridgeName: 'other0' }, host).join('\n'), /10\.244\.1\.0\/24 on berth0/);
});

test('pod/service overlap, DNS server inside the range, and bad CIDRs are rejected', () => {
  assert.match(findCidrConflicts({ podCidr: '10.10.0.0/16', serviceCidr: '10.10.128.0/20' }, host)[0]!, /pod CIDR 10\.10\.0\.0\/16 overlaps service CIDR 10\.10\.128\.0\/20/);
  assert.match(findCidrConflicts({ podCidr: '10.0.0.0/8' }, host).join('\n'), /contains the host's DNS server 10\.255\.255\.53/);
  assert.throws(() => findCidrConflicts({ podCidr: '10.0.0.1/8' }, host), /host bits set/);
});

test('checkCidrs throws with every conflict and passes for free ranges', async () => {
  await assert.rejects(checkCidrs({ podCidr: '10.88.0.0/16', serviceCidr: '192.0.2.128/25' }, host), (err: Error) => {
    assert.match(err.message, /10\.88\.3\.0\/24 on eth1/);
    assert.match(err.message, /service CIDR 192\.0\.2\.128\/25 overlaps 192\.0\.2\.0\/24 on eth0/);
    return true;
  });
  await checkCidrs({ podCidr: '10.50.0.0/16', serviceCidr: '10.51.0.0/16' }, host);
});
