import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseResolvConf, renderHostsFile, renderResolvConf, writePodEtcFiles, type EtcFilesPod } from './etc-files.ts';

const pod = (spec: EtcFilesPod['spec'] = {}): EtcFilesPod => ({ metadata: { name: 'web-0', namespace: 'shop', uid: 'u-1' }, spec });
const HOST = '# host\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example lab.example\noptions edns0 ndots:2\n';
const dns = { clusterDNS: ['10.96.0.10'], hostResolvConf: HOST };

test('hosts file: localhost lines, pod IP with hostname, FQDN with subdomain, hostAliases', () => {
  const plain = renderHostsFile(pod(), '10.88.0.5');
  assert.match(plain, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(plain, /^::1\tlocalhost ip6-localhost ip6-loopback$/m);
  assert.match(plain, /^10\.88\.0\.5\tweb-0$/m);
  assert.doesNotMatch(plain, /HostAliases/);
  const full = renderHostsFile(pod({ hostname: 'db', subdomain: 'backend', hostAliases: [{ ip: '1.2.3.4', hostnames: ['a.example', 'b'] }, { ip: '5.6.7.8' }] }), '10.88.0.6');
  assert.match(full, /^10\.88\.0\.6\tdb\.backend\.shop\.svc\.cluster\.local\tdb$/m);
  assert.match(full, /# Entries added by HostAliases\.\n1\.2\.3\.4\ta\.example\tb\n$/);
  assert.doesNotMatch(full, /5\.6\.7\.8/);
});

test('resolv.conf ClusterFirst: cluster DNS, search paths (+ host), ndots:5', () => {
  const text = renderResolvConf(pod(), dns);
  assert.equal(text, 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\noptions ndots:5\n');
  assert.equal(renderResolvConf(pod({ dnsPolicy: 'ClusterFirst' }), { ...dns, clusterDomain: 'k.local' }).split('\n')[1], 'search shop.svc.k.local svc.k.local k.local corp.example lab.example');
});

test('resolv.conf Default and host-network ClusterFirst use the host; ClusterFirstWithHostNet does not', () => {
  const expected = 'nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example lab.example\noptions edns0 ndots:2\n';
  assert.equal(renderResolvConf(pod({ dnsPolicy: 'Default' }), dns), expected);
  assert.equal(renderResolvConf(pod({ hostNetwork: true }), dns), expected);
  assert.equal(renderResolvConf(pod(), { ...dns, clusterDNS: [] }), expected);
  assert.match(renderResolvConf(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), dns), /^nameserver 10\.96\.0\.10$/m);
});

test('resolv.conf None uses dnsConfig only; dnsConfig merges into the others', () => {
  const none = renderResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'], searches: ['x.example'], options: [{ name: 'ndots', value: '1' }, { name: 'rotate' }] } }), dns);
  assert.equal(none, 'nameserver 9.9.9.9\nsearch x.example\noptions ndots:1 rotate\n');
  const merged = renderResolvConf(pod({ dnsConfig: { nameservers: ['10.96.0.10', '9.9.9.9', '8.8.8.8', '1.1.1.1'], searches: ['cluster.local', 'extra'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }), dns);
  assert.equal(merged, 'nameserver 10.96.0.10\nnameserver 9.9.9.9\nnameserver 8.8.8.8\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example extra\noptions ndots:2 edns0\n');
});

test('parseResolvConf ignores comments and keeps the last search line', () => {
  assert.deepEqual(parseResolvConf('nameserver 1.1.1.1 # c\n; x\nsearch a\nsearch b c\noptions timeout:1\n'), { nameservers: ['1.1.1.1'], searches: ['b', 'c'], options: ['timeout:1'] });
});

test('writePodEtcFiles writes both files under DATA_DIR/pods/<uid>', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-etc-'));
  try {
    const hostConf = path.join(dir, 'host-resolv.conf');
    await writeFile(hostConf, HOST);
    const res = await writePodEtcFiles(dir, pod({ dnsPolicy: 'Default' }), '10.88.0.9', { clusterDNS: ['10.96.0.10'], hostResolvConfPath: hostConf });
    assert.equal(res.hostsPath, path.join(dir, 'pods', 'u-1', 'etc-hosts'));
    assert.match(await readFile(res.hostsPath, 'utf8'), /^10\.88\.0\.9\tweb-0$/m);
    assert.match(await readFile(res.resolvConfPath, 'utf8'), /^nameserver 192\.0\.2\.53$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
