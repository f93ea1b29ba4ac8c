/**
 * A shortcut for managedFields on create (managed-fields.ts stampUpdate): the entries a create got,
 * by store and the created object's shape. An Update by one manager over nothing owns every field the
 * object has, so objects with the same fields (the same keys at the same places, scalars of the same
 * JSON type) and apiVersion get the same field set — only the entry's time differs. The scheduler's
 * 10,000 Scheduled events in bench sched all have one shape; the algebra (decode, field-set walk,
 * encode) cost ~30 µs of the API server's thread an event there (5 % of the thread while binding),
 * the shape's walk a few. Only objects without arrays: a list's field set depends on its items' keys
 * or values (associative lists, sets), which a shape does not capture.
 */
import { clone, type KubeObject } from '../apis/object.ts';
import type { ManagedFieldsEntry } from '../apis/merge/managed-fields.ts';
import { rfc3339 } from '../apis/time.ts';
import type { ResourceStore } from './resource-store.ts';

const createdShapes = new WeakMap<ResourceStore, Map<string, ManagedFieldsEntry[] | null>>();
const CREATED_SHAPES_MAX = 256;

/** The key of a create of `obj` by `manager`, or undefined when the object has arrays (or managedFields of its own). */
export function createShape(obj: KubeObject, manager: string): string | undefined {
  if (obj.metadata?.managedFields !== undefined) return undefined;
  // The entry records the object's apiVersion: a store serving several versions keeps them apart.
  const out = [JSON.stringify(manager), JSON.stringify(obj.apiVersion ?? '')];
  return shapeOf(obj, out) ? out.join('') : undefined;
}

function shapeOf(v: unknown, out: string[]): boolean {
  if (v === null) { out.push('n'); return true; }
  switch (typeof v) {
    case 'string': out.push('s'); return true;
    case 'number': out.push('d'); return true;
    case 'boolean': out.push('b'); return true;
    case 'object': {
      if (Array.isArray(v) || (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null)) return false;
      out.push('{');
      for (const k of Object.keys(v)) {
        out.push(JSON.stringify(k));
        if (!shapeOf((v as Record<string, unknown>)[k], out)) return false;
      }
      out.push('}');
      return true;
    }
    default: return false; // undefined and the like: not what a decode gives
  }
}

/** Sets `next`'s managedFields from an earlier create of the same shape (a copy, its time now); false when there was none. */
export function createdAs(store: ResourceStore, next: KubeObject, shape: string): boolean {
  const entries = createdShapes.get(store)?.get(shape);
  if (entries === undefined) return false;
  if (entries === null) { delete next.metadata.managedFields; return true; }
  const time = rfc3339();
  next.metadata.managedFields = entries.map((e) => (e.time !== undefined ? { ...clone(e), time } : clone(e)));
  return true;
}

export function rememberCreated(store: ResourceStore, next: KubeObject, shape: string): void {
  let shapes = createdShapes.get(store);
  if (!shapes) createdShapes.set(store, shapes = new Map());
  if (shapes.size >= CREATED_SHAPES_MAX) shapes.clear();
  const entries = next.metadata.managedFields as ManagedFieldsEntry[] | undefined;
  shapes.set(shape, entries?.length ? clone(entries) : null);
}
