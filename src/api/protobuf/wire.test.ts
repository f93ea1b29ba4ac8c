import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtobufWireError, readFields, readPackedVarints, readVarint } from './wire.ts';
import { varint } from './test-encoder.ts';

test('readVarint decodes single and multi-byte values', () => {
  assert.deepEqual(readVarint(Buffer.from([0x01]), 0), { value: 1n, next: 1 });
  assert.deepEqual(readVarint(Buffer.from([0xac, 0x02]), 0), { value: 300n, next: 2 });
  assert.equal(readVarint(varint(-1), 0).value, 0xffffffffffffffffn);
  assert.equal(varint(-1).length, 10);
});

test('readFields splits all four wire types', () => {
  const buf = Buffer.concat([
    Buffer.from([0x08, 0x96, 0x01]), // field 1 varint 150
    Buffer.from([0x11, 1, 2, 3, 4, 5, 6, 7, 8]), // field 2 fixed64
    Buffer.from([0x1a, 0x02, 0x68, 0x69]), // field 3 "hi"
    Buffer.from([0x25, 9, 9, 9, 9]), // field 4 fixed32
  ]);
  const fields = readFields(buf);
  assert.equal(fields.length, 4);
  assert.deepEqual(fields.map((f) => [f.field, f.wireType]), [[1, 0], [2, 1], [3, 2], [4, 5]]);
  assert.equal(fields[0].value, 150n);
  assert.equal((fields[2].value as Buffer).toString(), 'hi');
});

test('readFields rejects truncated and malformed input', () => {
  assert.throws(() => readFields(Buffer.from([0x0a, 0x05, 0x61])), ProtobufWireError);
  assert.throws(() => readFields(Buffer.from([0x08, 0x80])), ProtobufWireError);
  assert.throws(() => readFields(Buffer.from([0x0b])), /wire type 3/);
  assert.throws(() => readFields(Buffer.from([0x00, 0x00])), /field number 0/);
});

test('readPackedVarints reads a packed run', () => {
  assert.deepEqual(readPackedVarints(Buffer.concat([varint(1), varint(300), varint(-2)])), [1n, 300n, 0xfffffffffffffffen]);
});
