/**
 * The loose shape of any Kubernetes object as Berth handles it: JSON with `apiVersion`, `kind`,
 * `metadata` and whatever else the kind carries. Typed access to kind-specific fields goes through
 * the kind's strategy; the generic machinery only touches what is declared here.
 */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: any;
}

/** A JSON-ish record; used where a value's structure is checked at run time. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Deep copy of a JSON value (objects read from the store are plain JSON). */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** True when `v` is a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
