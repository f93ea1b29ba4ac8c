/**
 * Unknown-field detection for `fieldValidation=Strict|Warn`: walks an object against its OpenAPI
 * schema and reports fields the schema does not declare, with paths formatted the way Kubernetes'
 * strict JSON decoder prints them (`spec.template.spec.containers[0].imagePullPolicyy`). The lead
 * assembles the message `strict decoding error: unknown field "<path>"`.
 */
import { isObject } from '../../apis/object.ts';
import { loadDefinitions, type Definitions, type Schema } from '../../apis/openapi/definitions.ts';
import { definitionName, resolved } from './schema-lookup.ts';

/** Appends a property name to a path (`spec` + `replicas` → `spec.replicas`). */
export function joinPath(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

/**
 * What a merge patch carries below its key `k`: its object there, whose keys alone are walked; or
 * undefined, and the whole value is walked (a scalar or list replaces the stored value outright).
 * The rest of a patched object is the stored object's, checked — pruned, typed, its nulls zeroed —
 * when it was written, so it has nothing to report (RFC 7386: objects merge, anything else replaces,
 * null deletes). Upstream decodes the whole patched object, whose unknown fields can only be those.
 */
export function patchBelow(patch: Record<string, unknown>, k: string): Record<string, unknown> | undefined {
  const v = patch[k];
  return isObject(v) ? v : undefined;
}

/** With `patch`: only the keys it carries (patchBelow). */
function walk(value: unknown, schema: Schema | undefined, path: string, defs: Definitions, out: string[], patch?: Record<string, unknown>): void {
  const s = resolved(schema, defs);
  if (!s || s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string']) return;
  if (Array.isArray(value)) {
    if (s.type === 'array' && s.items) value.forEach((v, i) => walk(v, s.items, `${path}[${i}]`, defs, out));
    return;
  }
  if (!isObject(value) || s.type !== 'object') return;
  if (s.properties) {
    for (const [k, v] of Object.entries(value)) {
      if (patch && !Object.hasOwn(patch, k)) continue;
      const prop = s.properties[k];
      if (prop) walk(v, prop, joinPath(path, k), defs, out, patch && patchBelow(patch, k));
      else if (!isObject(s.additionalProperties)) out.push(joinPath(path, k));
    }
  } else if (isObject(s.additionalProperties)) {
    // A map (labels, data, resources.limits …): any key, values checked against the value schema.
    for (const [k, v] of Object.entries(value)) {
      if (patch && !Object.hasOwn(patch, k)) continue;
      walk(v, s.additionalProperties as Schema, joinPath(path, k), defs, out, patch && patchBelow(patch, k));
    }
  }
}

/**
 * Paths of the fields in `obj` that the schema of (`apiVersion`, `kind`) does not know, in document
 * order. Maps, int-or-string and preserve-unknown-fields are respected. Returns [] for kinds without
 * a schema (nothing can be said about them). With `patch`, `obj` is a stored object with that JSON
 * merge patch applied: only what the patch carried is looked at (patchBelow), in the same order.
 */
export function findUnknownFields(apiVersion: string, kind: string, obj: unknown, patch?: Record<string, unknown>): string[] {
  const defs = loadDefinitions();
  const name = definitionName(apiVersion, kind, defs);
  if (!name) return [];
  const out: string[] = [];
  walk(obj, defs[name], '', defs, out, patch);
  return out;
}

/** Returns a copy of `obj` without the fields findUnknownFields reports (for `fieldValidation=Ignore`). */
export function pruneUnknownFields<T>(apiVersion: string, kind: string, obj: T): T {
  const copy = structuredClone(obj);
  for (const path of findUnknownFields(apiVersion, kind, copy)) removePath(copy, path);
  return copy;
}

function removePath(root: unknown, path: string): void {
  // Paths are `a.b[0].c`; keys with dots (map keys) never appear here because maps accept any key.
  const parts = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let cur: any = root;
  for (let i = 0; i < parts.length - 1 && cur != null; i++) {
    const p = parts[i];
    cur = p.startsWith('[') ? cur[Number(p.slice(1, -1))] : cur[p];
  }
  if (isObject(cur)) delete cur[parts[parts.length - 1]];
}
