/**
 * Test support: a minimal protobuf writer for building synthetic request bodies in tests
 * (kinds and fields that kubectl itself does not send as protobuf).
 */

/** Encodes a varint; negative numbers become their 64-bit two's complement (10 bytes). */
export function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    bytes.push(b);
  } while (v > 0n);
  return Buffer.from(bytes);
}

/** A varint field (int32, int64, bool, enum). */
export function int(field: number, value: number | bigint | boolean): Buffer {
  return Buffer.concat([varint(field << 3), varint(typeof value === 'boolean' ? (value ? 1 : 0) : value)]);
}

/** A length-delimited field holding raw bytes. */
export function bytes(field: number, value: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(value.length), value]);
}

/** A string field. */
export function str(field: number, value: string): Buffer {
  return bytes(field, Buffer.from(value, 'utf8'));
}

/** A nested message field built from its parts. */
export function msg(field: number, ...parts: Buffer[]): Buffer {
  return bytes(field, Buffer.concat(parts));
}

/** A 64-bit double field. */
export function double(field: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return Buffer.concat([varint((field << 3) | 1), b]);
}

/** A map<string,string> entry. */
export function mapEntry(field: number, key: string, value: string): Buffer {
  return msg(field, str(1, key), str(2, value));
}

/** magic + runtime.Unknown{typeMeta{apiVersion, kind}, raw}. */
export function envelope(apiVersion: string, kind: string, ...raw: Buffer[]): Buffer {
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    msg(1, str(1, apiVersion), str(2, kind)),
    bytes(2, Buffer.concat(raw)),
  ]);
}
