/**
 * How objects are kept in the store: JSON without `metadata.resourceVersion` (the store's revision is
 * the resourceVersion, set again on every read), with `apiVersion` and `kind` always present.
 */
import type { KeyValue } from '../storage/backend.ts';
import type { KubeObject } from '../apis/object.ts';

export function encodeObject(obj: KubeObject): string {
  const rv = obj.metadata.resourceVersion;
  delete obj.metadata.resourceVersion;
  const s = JSON.stringify(obj);
  if (rv !== undefined) obj.metadata.resourceVersion = rv;
  return s;
}

export function decodeObject(kv: KeyValue, revision = kv.modRevision): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
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
