/**
 * Decoder for Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`):
 * the `k8s\0` magic, the runtime.Unknown envelope, then the object itself, driven by the field
 * table in schema.ts. The result is the JSON object Kubernetes' own JSON encoding would produce
 * (camelCase names, zero scalars omitted unless the Go field is a pointer or not omitempty).
 */
import { isSpecialMessage, messageForKind, messageSchema, type FieldSpec, type ScalarType } from './schema.ts';
import { decodeSpecial } from './special-types.ts';
import { readFields, readPackedVarints, type WireField } from './wire.ts';

/** The 4-byte prefix of every Kubernetes protobuf payload. */
export const KUBERNETES_PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/**
 * A field number the schema does not know; skipped (as upstream's generated Unmarshal skips
 * unknown fields), reported so the caller can warn.
 */
export interface UnknownField {
  /** JSON path of the object holding the field ('' for the top level). */
  path: string;
  /** Schema message name. */
  message: string;
  /** Protobuf field number. */
  field: number;
}

/** Result of {@link decodeKubernetesProtobuf}. */
export interface DecodedProtobufObject {
  apiVersion: string;
  kind: string;
  /** The object as Kubernetes JSON, with apiVersion and kind set from the envelope. */
  object: Record<string, unknown>;
  /** Field numbers that were present on the wire but are not in the schema (skipped). */
  unknownFields: UnknownField[];
}

interface DecodeContext {
  unknown: UnknownField[];
}

/**
 * Decodes a Kubernetes protobuf body (magic + runtime.Unknown envelope + object) into the JSON
 * object Kubernetes would produce. Throws an Error for a missing magic, a malformed message, a
 * non-identity content encoding, or a kind this decoder has no schema for.
 */
export function decodeKubernetesProtobuf(body: Buffer): DecodedProtobufObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(KUBERNETES_PROTOBUF_MAGIC)) {
    throw new Error('not a Kubernetes protobuf payload: missing the "k8s\\0" prefix');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  let contentEncoding = '';
  let contentType = '';
  for (const f of readFields(body.subarray(4))) {
    if (f.wireType !== 2) continue;
    if (f.field === 1) {
      for (const t of readFields(f.value)) {
        if (t.wireType !== 2) continue;
        if (t.field === 1) apiVersion = t.value.toString('utf8');
        else if (t.field === 2) kind = t.value.toString('utf8');
      }
    } else if (f.field === 2) raw = f.value;
    else if (f.field === 3) contentEncoding = f.value.toString('utf8');
    else if (f.field === 4) contentType = f.value.toString('utf8');
  }
  if (contentEncoding) throw new Error(`protobuf payload with content encoding "${contentEncoding}" is not supported`);
  if (contentType && !contentType.includes('protobuf')) {
    throw new Error(`protobuf envelope carrying "${contentType}" content is not supported; send it directly`);
  }
  if (!kind) throw new Error('protobuf payload has no kind in its type metadata');
  const message = messageForKind(apiVersion, kind);
  if (!message) {
    throw new Error(`protobuf decoding of ${apiVersion ? `${apiVersion} ` : ''}${kind} is not supported; send JSON`);
  }
  const ctx: DecodeContext = { unknown: [] };
  const object = { apiVersion, kind, ...decodeMessage(raw, message, '', ctx) };
  return { apiVersion, kind, object, unknownFields: ctx.unknown };
}

/**
 * `Warning` header texts for the unknown fields a decode skipped, one per distinct (path, field);
 * the caller sends them as it sends the unknown-field warnings of JSON bodies.
 */
export function unknownFieldWarnings(unknown: readonly UnknownField[]): string[] {
  const out = new Set<string>();
  for (const u of unknown) {
    const where = u.path ? `"${u.path}" (${u.message})` : u.message;
    out.add(`unknown protobuf field ${u.field} in ${where}, dropped`);
  }
  return [...out];
}

/** Decodes one message with a field table into a JSON object. */
function decodeMessage(buf: Buffer, name: string, path: string, ctx: DecodeContext): Record<string, unknown> {
  const schema = messageSchema(name);
  if (!schema) throw new Error(`protobuf schema has no message ${name}`);
  const out: Record<string, unknown> = {};
  for (const f of readFields(buf)) {
    const spec = schema.get(f.field);
    if (!spec) {
      ctx.unknown.push({ path, message: name, field: f.field });
      continue;
    }
    const childPath = path ? `${path}.${spec.name}` : spec.name;
    if (spec.map) {
      const [key, value] = decodeMapEntry(f, spec, childPath, ctx);
      const map = (out[spec.name] ??= {}) as Record<string, unknown>;
      map[key] = value;
    } else if (spec.repeated) {
      const list = (out[spec.name] ??= []) as unknown[];
      if (f.wireType === 2 && isPackable(spec.type)) {
        for (const v of readPackedVarints(f.value)) list.push(scalarFromVarint(spec.type, v));
      } else {
        const v = decodeValue(f, spec, `${childPath}[${list.length}]`, ctx);
        list.push(v === undefined ? null : v);
      }
    } else {
      const value = decodeValue(f, spec, childPath, ctx);
      if (spec.inline && value && typeof value === 'object') Object.assign(out, value);
      else if (value === undefined || (isZeroScalar(value) && !spec.keepZero && spec.type !== 'message')) delete out[spec.name];
      else out[spec.name] = value;
    }
  }
  return out;
}

/** Varint-encoded scalar types that may arrive packed. */
function isPackable(type: FieldSpec['type']): boolean {
  return type === 'int32' || type === 'int64' || type === 'bool';
}

/** Zero values Go's omitempty drops. */
function isZeroScalar(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/** Converts a varint to the JSON value of a scalar type. */
function scalarFromVarint(type: FieldSpec['type'], v: bigint): number | boolean {
  if (type === 'bool') return v !== 0n;
  if (type === 'int32') return Number(BigInt.asIntN(32, v));
  return Number(BigInt.asIntN(64, v));
}

/** Decodes a scalar of `type` from its wire record; `where` names it for errors. */
function decodeScalar(f: WireField, type: ScalarType, where: string): unknown {
  switch (type) {
    case 'string':
    case 'bytes':
      if (f.wireType !== 2) break;
      return type === 'string' ? f.value.toString('utf8') : f.value.toString('base64');
    case 'int32':
    case 'int64':
    case 'bool':
      if (f.wireType !== 0) break;
      return scalarFromVarint(type, f.value);
    case 'double':
      if (f.wireType !== 1) break;
      return f.value.readDoubleLE(0);
  }
  throw new Error(`protobuf field ${where}: wire type ${f.wireType} does not fit a ${type}`);
}

/** Decodes a nested message (special or tabled) from its wire record. */
function decodeNested(f: WireField, message: string, where: string, ctx: DecodeContext): unknown {
  if (f.wireType !== 2) throw new Error(`protobuf field ${where}: wire type ${f.wireType} does not fit a message`);
  if (isSpecialMessage(message)) return decodeSpecial(message, f.value);
  return decodeMessage(f.value, message, where, ctx);
}

/** Decodes a singular value (one element of a repeated field, or a non-repeated field). */
function decodeValue(f: WireField, spec: FieldSpec, where: string, ctx: DecodeContext): unknown {
  if (spec.type === 'message') return decodeNested(f, spec.message ?? '', where, ctx);
  return decodeScalar(f, spec.type, where);
}

/** Default JSON value of a map value that is absent from its entry. */
function absentMapValue(value: string, where: string, ctx: DecodeContext): unknown {
  if (value === 'string' || value === 'bytes') return '';
  if (value === 'int32' || value === 'int64' || value === 'double') return 0;
  if (value === 'bool') return false;
  if (isSpecialMessage(value)) return decodeSpecial(value, Buffer.alloc(0)) ?? null;
  return decodeMessage(Buffer.alloc(0), value, where, ctx);
}

/** Decodes one map entry message (key = 1, value = 2) into a [key, value] pair. */
function decodeMapEntry(f: WireField, spec: FieldSpec, path: string, ctx: DecodeContext): [string, unknown] {
  const map = spec.map!;
  if (f.wireType !== 2) throw new Error(`protobuf field ${path}: map entry is not length-delimited`);
  let key: unknown = map.key === 'string' ? '' : 0;
  let value: unknown;
  let seen = false;
  for (const e of readFields(f.value)) {
    if (e.field === 1) key = decodeScalar(e, map.key, `${path} key`);
    else if (e.field === 2) {
      seen = true;
      const where = `${path}[${String(key)}]`;
      value = isScalarName(map.value) ? decodeScalar(e, map.value, where) : decodeNested(e, map.value, where, ctx);
    }
  }
  if (!seen) value = absentMapValue(map.value, path, ctx);
  return [String(key), value === undefined ? null : value];
}

/** True for the names of scalar types. */
function isScalarName(name: string): name is ScalarType {
  return name === 'string' || name === 'int32' || name === 'int64' || name === 'bool' || name === 'bytes' || name === 'double';
}
