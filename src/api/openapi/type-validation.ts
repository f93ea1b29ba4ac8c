/**
 * JSON type checking of a request body against its OpenAPI schema. In Kubernetes these mistakes are
 * caught by the decoder and come back as 400 BadRequest; here each wrong value is reported with its
 * path and a message in the OpenAPI validator's words:
 * `Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
 */
import { isObject } from '../../apis/object.ts';
import { loadDefinitions, type Definitions, type Schema } from '../../apis/openapi/definitions.ts';
import { definitionName, resolved } from './schema-lookup.ts';
import { joinPath, patchBelow } from './unknown-fields.ts';

/** One wrong-typed value. */
export interface FieldTypeError {
  field: string;
  message: string;
}

/** JSON type name of a value as OpenAPI spells it. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Whether `value` fits a scalar or container schema; null fits everything (Go decodes it as zero). */
function fits(value: unknown, s: Schema): boolean {
  if (value === null || value === undefined) return true;
  if (s['x-kubernetes-int-or-string']) return typeof value === 'string' || Number.isInteger(value);
  if (s.format === 'quantity') return typeof value === 'string' || typeof value === 'number';
  switch (s.type) {
    case 'string': return typeof value === 'string';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'number': return typeof value === 'number';
    case 'boolean': return typeof value === 'boolean';
    case 'array': return Array.isArray(value);
    case 'object': return isObject(value);
    default: return true;
  }
}

function expected(s: Schema): string {
  if (s['x-kubernetes-int-or-string']) return 'integer or string';
  if (s.format === 'quantity') return 'string or number';
  return s.type ?? 'any';
}

/**
 * With `patch` (a merge patch's object at this node) only the keys the patch carries are walked:
 * every other value is the stored object's, which was checked when it was written.
 */
function walk(value: unknown, schema: Schema | undefined, path: string, defs: Definitions, out: FieldTypeError[], patch?: Record<string, unknown>): void {
  const s = resolved(schema, defs);
  if (!s || s['x-kubernetes-preserve-unknown-fields']) return;
  if (!fits(value, s)) {
    const t = jsonType(value);
    const field = path || '<root>';
    out.push({ field, message: `Invalid value: "${t}": ${field} in body must be of type ${expected(s)}: "${t}"` });
    return;
  }
  if (Array.isArray(value) && s.items) {
    value.forEach((v, i) => walk(v, s.items, `${path}[${i}]`, defs, out));
  } else if (isObject(value) && s.type === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (patch && !Object.hasOwn(patch, k)) continue;
      const prop = s.properties?.[k] ?? (isObject(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined);
      if (prop) walk(v, prop, joinPath(path, k), defs, out, patch && patchBelow(patch, k));
    }
  }
}

/**
 * Values in `obj` whose JSON type does not match the schema of (`apiVersion`, `kind`); unknown
 * fields are ignored here (see findUnknownFields). Returns [] for kinds without a schema. With
 * `patch`, `obj` is a stored object with that JSON merge patch applied, and only what the patch
 * carried is checked (see patchBelow).
 */
export function validateTypes(apiVersion: string, kind: string, obj: unknown, patch?: Record<string, unknown>): FieldTypeError[] {
  const defs = loadDefinitions();
  const name = definitionName(apiVersion, kind, defs);
  if (!name) return [];
  const out: FieldTypeError[] = [];
  walk(obj, defs[name], '', defs, out, patch);
  return out;
}
