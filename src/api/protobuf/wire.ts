/**
 * A small reader for the protobuf wire format: splits a message into (field number, wire type,
 * value) records. It knows nothing about schemas; decode.ts gives the values meaning.
 */

/** Protobuf wire types. 3 and 4 (groups) are obsolete and rejected. */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;

/** One field record as it appears on the wire. */
export type WireField =
  | { field: number; wireType: 0; value: bigint }
  | { field: number; wireType: 1; value: Buffer }
  | { field: number; wireType: 2; value: Buffer }
  | { field: number; wireType: 5; value: Buffer };

/** Thrown for bytes that are not a well-formed protobuf message. */
export class ProtobufWireError extends Error {
  override name = 'ProtobufWireError';
}

/**
 * Reads one base-128 varint at `offset`; returns its value (as an unsigned 64-bit bigint) and the
 * offset just past it.
 */
export function readVarint(buf: Buffer, offset: number): { value: bigint; next: number } {
  let result = 0n;
  let shift = 0n;
  let pos = offset;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtobufWireError(`truncated varint at byte ${offset}`);
    const byte = buf[pos++];
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value: BigInt.asUintN(64, result), next: pos };
    shift += 7n;
  }
  throw new ProtobufWireError(`varint longer than 10 bytes at byte ${offset}`);
}

/** Splits an encoded message into its field records, in wire order. */
export function readFields(buf: Buffer): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const key = readVarint(buf, pos);
    pos = key.next;
    const field = Number(key.value >> 3n);
    const wireType = Number(key.value & 7n);
    if (field === 0) throw new ProtobufWireError(`field number 0 at byte ${pos}`);
    switch (wireType) {
      case WireType.Varint: {
        const v = readVarint(buf, pos);
        pos = v.next;
        out.push({ field, wireType: 0, value: v.value });
        break;
      }
      case WireType.Fixed64:
        if (pos + 8 > buf.length) throw new ProtobufWireError(`truncated 64-bit field ${field}`);
        out.push({ field, wireType: 1, value: buf.subarray(pos, pos + 8) });
        pos += 8;
        break;
      case WireType.LengthDelimited: {
        const len = readVarint(buf, pos);
        pos = len.next;
        const end = pos + Number(len.value);
        if (len.value > BigInt(buf.length) || end > buf.length) throw new ProtobufWireError(`truncated length-delimited field ${field}`);
        out.push({ field, wireType: 2, value: buf.subarray(pos, end) });
        pos = end;
        break;
      }
      case WireType.Fixed32:
        if (pos + 4 > buf.length) throw new ProtobufWireError(`truncated 32-bit field ${field}`);
        out.push({ field, wireType: 5, value: buf.subarray(pos, pos + 4) });
        pos += 4;
        break;
      default:
        throw new ProtobufWireError(`unsupported wire type ${wireType} for field ${field}`);
    }
  }
  return out;
}

/** Reads a packed run of varints (a repeated numeric field encoded as one length-delimited value). */
export function readPackedVarints(buf: Buffer): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const v = readVarint(buf, pos);
    out.push(v.value);
    pos = v.next;
  }
  return out;
}
