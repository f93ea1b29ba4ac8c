/**
 * RFC 7386 JSON Merge Patch (`application/merge-patch+json`): objects merge recursively, `null`
 * deletes a key, anything else (arrays included) replaces.
 */
import { clone, isObject } from '../object.ts';

function merge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

/** Applies a merge patch to `original` and returns the result; `original` is not modified. */
export function applyMergePatch<T = unknown>(original: T, patch: unknown): T {
  return merge(clone(original), patch) as T;
}
