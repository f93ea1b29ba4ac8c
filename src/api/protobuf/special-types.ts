/**
 * JSON forms of the apimachinery types whose protobuf message is not their JSON shape:
 * metav1.Time / MicroTime (RFC 3339 strings), metav1.Duration (Go duration string),
 * intstr.IntOrString (number or string), resource.Quantity (string), runtime.RawExtension and
 * metav1.FieldsV1 (embedded JSON), and authentication's ExtraValue (a list of strings).
 */
import type { SpecialMessage } from './schema.ts';
import { readFields, type WireField } from './wire.ts';

/** Varint value of field `n` (0n when absent; the last occurrence wins, as in protobuf). */
function varintField(fields: WireField[], n: number): bigint {
  let v = 0n;
  for (const f of fields) if (f.field === n && f.wireType === 0) v = f.value;
  return v;
}

/** Bytes of length-delimited field `n`, or undefined when absent. */
function bytesField(fields: WireField[], n: number): Buffer | undefined {
  let v: Buffer | undefined;
  for (const f of fields) if (f.field === n && f.wireType === 2) v = f.value;
  return v;
}

/** Unix seconds → `YYYY-MM-DDTHH:MM:SS` (UTC, no fraction, no zone). */
function isoSeconds(seconds: bigint): string {
  const ms = Number(seconds) * 1000;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new Error(`timestamp out of range: ${seconds} seconds`);
  return d.toISOString().replace(/\.\d{3}Z$/, '');
}

/**
 * metav1.Time → `2026-01-02T03:04:05Z` (seconds precision, like Kubernetes' JSON). The zero time
 * (no seconds, no nanos) → undefined: Kubernetes writes it as null, this decoder omits it.
 */
export function timeToJson(seconds: bigint, nanos: bigint): string | undefined {
  if (seconds === 0n && nanos === 0n) return undefined;
  return `${isoSeconds(seconds)}Z`;
}

/** metav1.MicroTime → `2026-01-02T03:04:05.123456Z`; the zero time → undefined. */
export function microTimeToJson(seconds: bigint, nanos: bigint): string | undefined {
  if (seconds === 0n && nanos === 0n) return undefined;
  const micros = String(BigInt.asIntN(32, nanos) / 1000n).padStart(6, '0');
  return `${isoSeconds(seconds)}.${micros}Z`;
}

/** Formats `value / unit` with the fraction's trailing zeros removed (Go's fmtFrac). */
function fraction(value: bigint, unit: bigint, digits: number): string {
  const whole = value / unit;
  const rest = value % unit;
  if (rest === 0n) return String(whole);
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** Nanoseconds → Go's time.Duration.String(), e.g. `1h2m3.5s`, `250ms`, `0s`. */
export function goDurationString(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  const u = ns < 0n ? -ns : ns;
  if (u < 1000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${fraction(u, 1000n, 3)}µs`;
  if (u < 1_000_000_000n) return `${sign}${fraction(u, 1_000_000n, 6)}ms`;
  const hours = u / 3_600_000_000_000n;
  const minutes = (u / 60_000_000_000n) % 60n;
  const secondsNs = u % 60_000_000_000n;
  let out = sign;
  if (hours > 0n) out += `${hours}h`;
  if (hours > 0n || minutes > 0n) out += `${minutes}m`;
  return `${out}${fraction(secondsNs, 1_000_000_000n, 9)}s`;
}

/** Parses embedded JSON bytes; `what` names the type for the error message. */
function embeddedJson(raw: Buffer | undefined, what: string): unknown {
  if (!raw || raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new Error(`${what} does not hold JSON; only JSON content is supported inside protobuf bodies`);
  }
}

/**
 * Converts the encoded special message `name` to its JSON value; undefined means "omit the field"
 * (a zero Time, an empty RawExtension).
 */
export function decodeSpecial(name: SpecialMessage, buf: Buffer): unknown {
  const fields = readFields(buf);
  switch (name) {
    case 'Time':
      return timeToJson(BigInt.asIntN(64, varintField(fields, 1)), varintField(fields, 2));
    case 'MicroTime':
      return microTimeToJson(BigInt.asIntN(64, varintField(fields, 1)), varintField(fields, 2));
    case 'Duration':
      return goDurationString(BigInt.asIntN(64, varintField(fields, 1)));
    case 'IntOrString': {
      const type = varintField(fields, 1);
      if (type === 1n) return (bytesField(fields, 3) ?? Buffer.alloc(0)).toString('utf8');
      return Number(BigInt.asIntN(32, varintField(fields, 2)));
    }
    case 'Quantity': {
      const s = (bytesField(fields, 1) ?? Buffer.alloc(0)).toString('utf8');
      return s === '' ? '0' : s;
    }
    case 'RawExtension':
      return embeddedJson(bytesField(fields, 1), 'runtime.RawExtension');
    case 'FieldsV1':
      return embeddedJson(bytesField(fields, 1), 'metav1.FieldsV1');
    case 'ExtraValue':
      // A user's extra values: `repeated string items = 1`, whose JSON is the bare list.
      return fields.filter((f) => f.field === 1 && f.wireType === 2).map((f) => (f.value as Buffer).toString('utf8'));
  }
}
