import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostLocalIpam } from './host-local-ipam.ts';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ipam-'));
    try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

test('allocates in order after the gateway, in host-local\'s files; an owner keeps its address', withDir(async (dir) => {
  const ipam = new HostLocalIpam(dir, 'net', '10.9.0.0/29', '10.9.0.1');
  const a = await ipam.allocate('pod-a', 'eth0');
  const b = await ipam.allocate('pod-b', 'eth0');
  assert.deepEqual(a, { ip: '10.9.0.2', cidr: '10.9.0.2/29', gateway: '10.9.0.1' });
  assert.equal(b.ip, '10.9.0.3');
  assert.deepEqual(await ipam.allocate('pod-a', 'eth0'), a);
  assert.equal(readFileSync(join(dir, 'net', '10.9.0.2'), 'utf8'), 'pod-a\r\neth0');
  assert.deepEqual(await ipam.allocations(), new Map([['10.9.0.2', 'pod-a'], ['10.9.0.3', 'pod-b']]));
}));

test('concurrent allocations get different addresses; the range runs out with an error', withDir(async (dir) => {
  const ipam = new HostLocalIpam(dir, 'net', '10.9.0.0/29', '10.9.0.1'); // .2–.6 usable
  const got = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((o) => ipam.allocate(o, 'eth0')));
  assert.deepEqual(got.map((g) => g.ip).sort(), ['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
  await assert.rejects(ipam.allocate('f', 'eth0'), /no IP addresses available in range 10\.9\.0\.0\/29/);
}));

test('round robin: a released address is handed out again only after the others', withDir(async (dir) => {
  const ipam = new HostLocalIpam(dir, 'net', '10.9.0.0/29', '10.9.0.1');
  await ipam.allocate('a', 'eth0');
  await ipam.allocate('b', 'eth0');
  await ipam.release('a');
  assert.equal((await ipam.allocate('c', 'eth0')).ip, '10.9.0.4');
  assert.equal((await ipam.allocate('d', 'eth0')).ip, '10.9.0.5');
  assert.equal((await ipam.allocate('e', 'eth0')).ip, '10.9.0.6');
  assert.equal((await ipam.allocate('f', 'eth0')).ip, '10.9.0.2', 'wraps past the gateway to the freed one');
  assert.equal((await ipam.allocations()).get('10.9.0.3'), 'b');
  assert.ok(!readdirSync(join(dir, 'net')).includes('10.9.0.7'), 'never the broadcast address');
}));

test('reads state left by host-local (or an earlier agent) and releases what it does not hold in memory', withDir(async (dir) => {
  mkdirSync(join(dir, 'net'));
  writeFileSync(join(dir, 'net', '10.9.0.2'), 'old-pod\r\neth0');
  writeFileSync(join(dir, 'net', 'last_reserved_ip.0'), '10.9.0.2');
  writeFileSync(join(dir, 'net', 'lock'), '');
  const ipam = new HostLocalIpam(dir, 'net', '10.9.0.0/29', '10.9.0.1');
  assert.equal((await ipam.allocate('new-pod', 'eth0')).ip, '10.9.0.3');
  assert.equal((await ipam.allocate('old-pod', 'eth0')).ip, '10.9.0.2', 'the owner on disk keeps its address');
  // Written behind this instance's back, after it read the directory.
  writeFileSync(join(dir, 'net', '10.9.0.4'), 'other\r\neth0');
  assert.equal((await ipam.allocate('x', 'eth0')).ip, '10.9.0.5', 'an address whose file exists is skipped');
  await ipam.release('other');
  await ipam.release('old-pod');
  assert.deepEqual([...(await ipam.allocations()).keys()].sort(), ['10.9.0.3', '10.9.0.5']);
  // A fresh instance (agent restart) sees the same.
  const again = new HostLocalIpam(dir, 'net', '10.9.0.0/29', '10.9.0.1');
  assert.equal((await again.allocate('x', 'eth0')).ip, '10.9.0.5');
}));
