import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSpecial, goDurationString, microTimeToJson, timeToJson } from './special-types.ts';
import { bytes, int, str } from './test-encoder.ts';

test('Time: RFC 3339 at seconds precision; zero time omitted', () => {
  assert.equal(timeToJson(1767323045n, 0n), '2026-01-02T03:04:05Z');
  assert.equal(timeToJson(1767323045n, 999n), '2026-01-02T03:04:05Z');
  assert.equal(timeToJson(0n, 0n), undefined);
  assert.equal(decodeSpecial('Time', int(1, 1767323045)), '2026-01-02T03:04:05Z');
  assert.equal(decodeSpecial('Time', Buffer.alloc(0)), undefined);
});

test('MicroTime keeps microseconds', () => {
  assert.equal(microTimeToJson(1767323045n, 123456789n), '2026-01-02T03:04:05.123456Z');
  assert.equal(decodeSpecial('MicroTime', Buffer.concat([int(1, 1767323045), int(2, 5000)])), '2026-01-02T03:04:05.000005Z');
});

test('Duration formats like Go time.Duration.String()', () => {
  assert.equal(goDurationString(0n), '0s');
  assert.equal(goDurationString(500n), '500ns');
  assert.equal(goDurationString(1_500n), '1.5µs');
  assert.equal(goDurationString(250_000_000n), '250ms');
  assert.equal(goDurationString(3_600_000_000_000n), '1h0m0s');
  assert.equal(goDurationString(61_500_000_000n), '1m1.5s');
  assert.equal(goDurationString(-2_000_000_000n), '-2s');
  assert.equal(decodeSpecial('Duration', int(1, 90_000_000_000)), '1m30s');
});

test('IntOrString: number for type 0, string for type 1', () => {
  assert.equal(decodeSpecial('IntOrString', Buffer.concat([int(1, 0), int(2, 8080)])), 8080);
  assert.equal(decodeSpecial('IntOrString', Buffer.concat([int(1, 1), str(3, 'http')])), 'http');
  assert.equal(decodeSpecial('IntOrString', Buffer.concat([int(1, 0), int(2, 0)])), 0);
});

test('Quantity is its string; RawExtension and FieldsV1 are embedded JSON', () => {
  assert.equal(decodeSpecial('Quantity', str(1, '500m')), '500m');
  assert.deepEqual(decodeSpecial('RawExtension', bytes(1, Buffer.from('{"a":[1,2]}'))), { a: [1, 2] });
  assert.deepEqual(decodeSpecial('FieldsV1', bytes(1, Buffer.from('{"f:metadata":{}}'))), { 'f:metadata': {} });
  assert.throws(() => decodeSpecial('RawExtension', bytes(1, Buffer.from([0x0a, 0x01]))), /does not hold JSON/);
});
