/**
 * Defaulting and pruning of a custom object by its structural schema — on every write and on every
 * read from storage (a default added to the schema later shows on old objects), as
 * apiextensions-apiserver's structuraldefaulting.Default and structuralpruning.Prune do: unknown
 * fields go unless `x-kubernetes-preserve-unknown-fields`; an embedded resource keeps apiVersion,
 * kind and metadata; `x-kubernetes-int-or-string` values are left as they are.
 */
import { additionalSchema, isObject, type JSONSchemaProps } from './schema.ts';

const EMBEDDED_KEEP = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Fills defaults in place: a missing property with a `default`, and a null one that may not be null.
 * Defaults are copied, never shared between objects.
 */
export function applyDefaults(schema: JSONSchemaProps, value: unknown): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(schema.items, item);
    return;
  }
  if (!isObject(value)) return;
  for (const [k, p] of Object.entries(schema.properties ?? {})) {
    if (p.default !== undefined && (!(k in value) || (value[k] === null && !p.nullable))) value[k] = structuredClone(p.default);
    if (k in value) applyDefaults(p, value[k]);
  }
  const extra = additionalSchema(schema);
  if (extra && !schema.properties) for (const v of Object.values(value)) applyDefaults(extra, v);
}

/**
 * Removes what the schema does not specify, in place; returns the paths removed (for the
 * `unknown field` warnings or errors of fieldValidation). `root`: apiVersion, kind and metadata are
 * the API's, never pruned there.
 */
export function prune(schema: JSONSchemaProps, value: unknown, root = true, path = '', out: string[] = []): string[] {
  if (schema['x-kubernetes-int-or-string'] && !schema.properties) return out;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => prune(schema.items!, item, false, `${path}[${i}]`, out));
    return out;
  }
  if (!isObject(value)) return out;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  const extra = additionalSchema(schema);
  for (const k of Object.keys(value)) {
    const p = schema.properties?.[k];
    const at = path ? `${path}.${k}` : k;
    if (p) { prune(p, value[k], false, at, out); continue; }
    if ((root || embedded) && EMBEDDED_KEEP.has(k)) continue;
    if (extra) { prune(extra, value[k], false, at, out); continue; }
    if (preserve) continue;
    delete value[k];
    out.push(at);
  }
  return out;
}
