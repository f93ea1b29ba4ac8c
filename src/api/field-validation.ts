/**
 * `fieldValidation` (Strict | Warn | Ignore) for typed objects: unknown fields are always dropped,
 * as Kubernetes' decoder drops them; Strict turns them into a 400, Warn into `Warning` headers.
 * Wrong JSON types are a 400 in every mode, as the decoder fails on them; null list items and map
 * values become their zero values, as the decoder makes them.
 */
import type { KubeObject } from '../apis/object.ts';
import { errors } from '../errors/index.ts';
import { findUnknownFields } from './openapi/unknown-fields.ts';
import { validateTypes } from './openapi/type-validation.ts';
import { zeroNullItems } from './openapi/null-items.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(v: string | null): FieldValidation {
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw errors.badRequest(`fieldValidation parameter unsupported: ${v} (supported: Strict, Warn, Ignore)`);
}

/** Splits `spec.containers[0].foo` into ['spec', 'containers', 0, 'foo']. */
function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  for (let m; (m = re.exec(path)); ) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

function removePath(obj: unknown, path: string): void {
  const segs = pathSegments(path);
  let cur: any = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    cur = cur?.[segs[i]];
    if (cur === undefined || cur === null) return;
  }
  if (cur && typeof cur === 'object') delete cur[segs[segs.length - 1]];
}

/**
 * Checks and prunes `obj` in place; returns warnings to send. `kind`/`apiVersion` are the endpoint's.
 * `mergePatch`: `obj` is a stored object with this JSON merge patch applied, and only what the patch
 * carried is checked — the rest is the stored object's, checked when it was written (a pod's
 * status patch does not walk its spec). Custom resources' own schemas walk the whole object.
 */
export function checkFields(obj: KubeObject, apiVersion: string, kind: string, mode: FieldValidation, unknownFields?: (obj: KubeObject) => string[], mergePatch?: Record<string, unknown>): string[] {
  const typeErrs = validateTypes(apiVersion, kind, obj, mergePatch);
  if (typeErrs.length) {
    const version = apiVersion.split('/').pop();
    throw errors.badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${typeErrs.map((e) => `${e.field}: ${e.message}`).join(', ')}`,
      typeErrs.map((e) => ({ reason: 'FieldValueTypeInvalid', message: e.message, field: e.field })));
  }
  zeroNullItems(apiVersion, kind, obj, mergePatch);
  // A kind with a schema of its own (a custom resource's) says itself what it does not know.
  const unknown = unknownFields ? unknownFields(obj) : findUnknownFields(apiVersion, kind, obj, mergePatch);
  if (!unknown.length) return [];
  if (mode === 'Strict') {
    throw errors.badRequest(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`,
      unknown.map((u) => ({ reason: 'FieldValueInvalid', message: `unknown field "${u}"`, field: u })));
  }
  for (const u of unknown) removePath(obj, u);
  return mode === 'Warn' ? unknown.map((u) => `unknown field "${u}"`) : [];
}
