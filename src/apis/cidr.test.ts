import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, cidrsOverlap, formatCidr, intToIp, ipToInt, nthAddress, parseCidr } from './cidr.ts';

test('parse/format round-trip and host-bit handling', () => {
  assert.equal(formatCidr(parseCidr('10.88.0.0/16', true)), '10.88.0.0/16');
  assert.equal(formatCidr(parseCidr('192.0.2.2/24')), '192.0.2.0/24');
  assert.equal(formatCidr(parseCidr('10.0.0.7')), '10.0.0.7/32');
  assert.equal(formatCidr(parseCidr('0.0.0.0/0', true)), '0.0.0.0/0');
  assert.throws(() => parseCidr('10.0.0.1/24', true), /host bits set/);
  assert.throws(() => parseCidr('10.0.0.0/33'), /prefix/);
  assert.throws(() => parseCidr('10.0.0/8'), /invalid IPv4/);
  assert.throws(() => parseCidr('10.0.0.256/8'), /invalid IPv4/);
  assert.equal(intToIp(ipToInt('255.255.255.255')), '255.255.255.255');
});

test('overlap and containment', () => {
  assert.equal(cidrsOverlap('10.88.0.0/16', '10.88.3.0/24'), true);
  assert.equal(cidrsOverlap('10.88.3.0/24', '10.88.0.0/16'), true);
  assert.equal(cidrsOverlap('10.88.0.0/16', '10.89.0.0/16'), false);
  assert.equal(cidrsOverlap('0.0.0.0/0', '1.2.3.4'), true);
  assert.equal(cidrsOverlap('10.0.0.0/31', '10.0.0.2/31'), false);
  assert.equal(cidrContains('10.88.0.0/16', '10.88.255.255'), true);
  assert.equal(cidrContains('10.88.0.0/16', '10.89.0.0'), false);
  assert.equal(cidrContains('10.88.0.0/24', '10.88.0.0/16'), false);
  assert.equal(nthAddress('10.88.0.0/24', 1), '10.88.0.1');
  assert.throws(() => nthAddress('10.88.0.0/30', 4));
});
