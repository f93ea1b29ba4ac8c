import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nameserversOf, parseUpstream } from './upstreams.ts';

test('upstreams: ip[:port] forms, names and bad ports rejected', () => {
  assert.deepEqual(parseUpstream('127.0.0.1'), { host: '127.0.0.1', port: 53, family: 4 });
  assert.deepEqual(parseUpstream('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353, family: 4 });
  assert.deepEqual(parseUpstream('::1'), { host: '::1', port: 53, family: 6 });
  assert.deepEqual(parseUpstream('[::1]:5353'), { host: '::1', port: 5353, family: 6 });
  assert.throws(() => parseUpstream('dns.example'), /bad DNS upstream/);
  assert.throws(() => parseUpstream('127.0.0.1:0'), /bad DNS upstream/);
  assert.throws(() => parseUpstream('127.0.0.1:99999'), /bad DNS upstream/);
});

test('resolv.conf: nameserver lines only', () => {
  const conf = '# comment\nsearch x.local\nnameserver 10.0.0.2\n  nameserver  fd00::53\nnameserver not-an-ip\noptions ndots:5\n';
  assert.deepEqual(nameserversOf(conf), ['10.0.0.2', 'fd00::53']);
});
