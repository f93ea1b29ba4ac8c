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

/** Storage key: `/registry/<group|core>/<plural>/[<namespace>/]<name>`. */
export function storageKey(group: string, plural: string, namespace: string | undefined, name: string): string {
  return `${storagePrefix(group, plural, namespace)}${name}`;
}

/** Prefix for a list: all namespaces when `namespace` is undefined. */
export function storagePrefix(group: string, plural: string, namespace: string | undefined): string {
  const base = `/registry/${group || 'core'}/${plural}/`;
  return namespace ? `${base}${namespace}/` : base;
}
