/**
 * How objects are kept in the store: JSON without `metadata.resourceVersion` (the store's revision is
 * the resourceVersion, set again on every read), with `apiVersion` and `kind` always present. The
 * values of encrypted resources are sealed below this, on the store (encryption/encrypting-backend.ts).
 */
import type { KeyValue } from '../storage/backend.ts';
import type { KubeObject } from '../apis/object.ts';
import { errors } from '../errors/index.ts';
import { ENCRYPTED_PREFIX } from './encryption/value-transformer.ts';

export function encodeObject(obj: KubeObject): string {
  const rv = obj.metadata.resourceVersion;
  delete obj.metadata.resourceVersion;
  const s = JSON.stringify(obj);
  if (rv !== undefined) obj.metadata.resourceVersion = rv;
  return s;
}

/**
 * The stored object, with the store's revision as its resourceVersion. A value that is not JSON is
 * a 500 naming the key only: the parser's message would quote the value, which may be a Secret's.
 */
export function decodeObject(kv: KeyValue, revision = kv.modRevision): KubeObject {
  let obj: KubeObject;
  try {
    obj = JSON.parse(kv.value) as KubeObject;
  } catch {
    if (kv.value.startsWith(ENCRYPTED_PREFIX)) {
      throw errors.internal(`${kv.key}: the stored value is encrypted (${/^k8s:enc:[^:]{0,32}:v1:[^:]{0,64}:/.exec(kv.value)?.[0] ?? ENCRYPTED_PREFIX}): start the API server with the --encryption-provider-config that wrote it`);
    }
    throw errors.internal(`${kv.key}: the stored value is not valid JSON`);
  }
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;

/** Index just past the string starting at `i` (a quote), or -1. */
function skipString(s: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q < 0) return -1;
    // A quote is escaped when an odd number of backslashes stands before it.
    let k = q - 1;
    while (s.charCodeAt(k) === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Index just past the JSON value starting at `i`, or -1 when it does not end. */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) {
    // A number, true, false or null: up to the delimiter that follows it.
    let j = i;
    for (; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY) return j;
    }
    return -1;
  }
  let depth = 0;
  for (let j = i; j < s.length;) {
    const d = s.charCodeAt(j);
    if (d === QUOTE) {
      j = skipString(s, j);
      if (j < 0) return -1;
      continue;
    }
    if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
    else if ((d === CLOSE_OBJECT || d === CLOSE_ARRAY) && --depth === 0) return j + 1;
    j++;
  }
  return -1;
}

/** True when the key string at `i` (its opening quote) is exactly `"<name>"`. */
function keyIs(s: string, i: number, end: number, name: string): boolean {
  return end - i === name.length + 2 && s.startsWith(name, i + 1);
}

/**
 * Where a stored value takes its resourceVersion: the API's JSON for it is `value.slice(0, at) +
 * insert + value.slice(at)`. A list writes the three parts as they are (no spliced copy of the item
 * to allocate: list-stream.ts); encodedWithResourceVersion joins them.
 */
export interface ResourceVersionSplice { at: number; insert: string }

/**
 * A stored value as the API's JSON for it — the list's item, a watch event's object, a write's answer
 * — without parsing it: `"resourceVersion":"<revision>"` spliced into the top-level `metadata` (values
 * are stored without one), so the result is what `JSON.stringify(decodeObject(kv, revision))` gives up
 * to the place of that one key. Stored values are encodeObject's JSON.stringify output. Undefined when
 * resourceVersionSplice is (the caller decodes and encodes).
 */
export function encodedWithResourceVersion(value: string, revision: number): string | undefined {
  const p = resourceVersionSplice(value, revision);
  return p && `${value.slice(0, p.at)}${p.insert}${value.slice(p.at)}`;
}

/**
 * Where encodedWithResourceVersion splices the resourceVersion into `value`, and what.
 *
 * Where the value has no `"resourceVersion"` anywhere (one indexOf: pods, nodes, leases…), the field
 * goes first in `metadata`: the walk to the end of `metadata` read every character of managedFields
 * (~10 µs a 4 KB pod, 1.5 s of the server's thread per list of 150,000 pods; issue 19). JSON's objects
 * are unordered and kube-apiserver's own order differs from both (name … uid, resourceVersion, …).
 * Otherwise it walks `metadata` and puts the field last, where decodeObject's assignment puts it —
 * byte for byte decode + encode. Undefined whenever that cannot be shown on the way: not an object (an
 * encrypted value), no `metadata` object among the top-level keys before it, a stored resourceVersion
 * in `metadata`, any character out of place.
 */
export function resourceVersionSplice(value: string, revision: number): ResourceVersionSplice | undefined {
  if (value.charCodeAt(0) !== OPEN_OBJECT || value.charCodeAt(value.length - 1) !== CLOSE_OBJECT) return undefined;
  let i = 1;
  for (;;) {
    if (value.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = skipString(value, i);
    if (keyEnd < 0 || value.charCodeAt(keyEnd) !== COLON) return undefined;
    if (keyIs(value, i, keyEnd, 'metadata')) {
      const start = keyEnd + 1;
      if (value.charCodeAt(start) !== OPEN_OBJECT) return undefined;
      if (value.indexOf('"resourceVersion"', start) < 0) {
        const c = value.charCodeAt(start + 1);
        // `{}`, or a key's quote: anything else is not JSON.stringify's output.
        if (c !== CLOSE_OBJECT && c !== QUOTE) return undefined;
        return { at: start + 1, insert: `"resourceVersion":"${revision}"${c === CLOSE_OBJECT ? '' : ','}` };
      }
      return spliceIntoMetadata(value, start, revision);
    }
    const end = skipValue(value, keyEnd + 1);
    if (end < 0 || value.charCodeAt(end) !== COMMA) return undefined;
    i = end + 1;
  }
}

function spliceIntoMetadata(value: string, start: number, revision: number): ResourceVersionSplice | undefined {
  if (value.charCodeAt(start) !== OPEN_OBJECT) return undefined;
  const field = `"resourceVersion":"${revision}"`;
  let i = start + 1;
  if (value.charCodeAt(i) === CLOSE_OBJECT) return { at: i, insert: field };
  for (;;) {
    if (value.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = skipString(value, i);
    if (keyEnd < 0 || value.charCodeAt(keyEnd) !== COLON) return undefined;
    // decodeObject would overwrite a stored one in its place: not worth a second splice.
    if (keyIs(value, i, keyEnd, 'resourceVersion')) return undefined;
    const end = skipValue(value, keyEnd + 1);
    if (end < 0) return undefined;
    const c = value.charCodeAt(end);
    if (c === CLOSE_OBJECT) return { at: end, insert: `,${field}` };
    if (c !== COMMA) return undefined;
    i = end + 1;
  }
}

/**
 * True when `v` is made of JSON's own values only — plain objects (own enumerable string keys), dense
 * arrays, strings, finite numbers (not -0), booleans, null — so that JSON.parse(JSON.stringify(v))
 * gives it back as it is (a key set to undefined, a Date or a NaN would not survive the round trip).
 * A pod's walk costs ~2 µs where parsing its JSON costs ~14.
 */
export function isPlainJson(v: unknown, depth = 0): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (depth > 1000) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!(i in v) || !isPlainJson(v[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      // for…in also walks inherited enumerable keys: none on a plain object's prototypes.
      for (const k in v) if (!isPlainJson((v as Record<string, unknown>)[k], depth + 1)) return false;
      return Object.getOwnPropertySymbols(v).length === 0;
    }
    default:
      return false;
  }
}

/** Storage key: `/registry/<group|core>/<plural>/[<namespace>/]<name>`. */
export function storageKey(group: string, plural: string, namespace: string | undefined, name: string): string {
  return `${storagePrefix(group, plural, namespace)}${name}`;
}

/** Prefix for a list: all namespaces when `namespace` is undefined. */
export function storagePrefix(group: string, plural: string, namespace: string | undefined): string {
  const base = `/registry/${group || 'core'}/${plural}/`;
  return namespace ? `${base}${namespace}/` : base;
}
