/**
 * Go's JSON decoder, which Kubernetes decodes every body with, turns a `null` list item or map value
 * into the zero value of its type: `finalizers: [null]` is `[""]`, `containers: [null]` is `[{}]`.
 * Berth keeps bodies as JSON, so it does the same here, once, after type checking — and every
 * validator and strategy after it sees what Kubernetes' would (a 422 for an empty finalizer, not a
 * crash on `null.includes`).
 */
import { isObject } from '../../apis/object.ts';
import { loadDefinitions, type Definitions, type Schema } from '../../apis/openapi/definitions.ts';
import { definitionName, resolved } from './schema-lookup.ts';
import { patchBelow } from './unknown-fields.ts';

/** The zero value Go gives a value of schema `s`; undefined when it cannot be told. */
function zeroValue(s: Schema | undefined, defs: Definitions): unknown {
  const schema = resolved(s, defs);
  if (!schema) return undefined;
  if (schema['x-kubernetes-int-or-string']) return 0;
  if (schema.format === 'quantity') return '0';
  switch (schema.type) {
    case 'string': return '';
    case 'integer': case 'number': return 0;
    case 'boolean': return false;
    case 'array': return [];
    case 'object': return {};
    default: return undefined;
  }
}

/** With `patch`: only the keys it carries (unknown-fields.ts, patchBelow). */
function walk(value: unknown, schema: Schema | undefined, defs: Definitions, patch?: Record<string, unknown>): void {
  const s = resolved(schema, defs);
  if (!s || s['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value) && s.items) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] === null) {
        const zero = zeroValue(s.items, defs);
        if (zero !== undefined) value[i] = zero;
      }
      walk(value[i], s.items, defs);
    }
  } else if (isObject(value) && s.type === 'object') {
    const map = isObject(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined;
    for (const [k, v] of Object.entries(value)) {
      if (patch && !Object.hasOwn(patch, k)) continue;
      const prop = s.properties?.[k] ?? map;
      if (!prop) continue;
      if (v === null && !s.properties?.[k] && map) {
        const zero = zeroValue(map, defs);
        if (zero !== undefined) value[k] = zero;
      }
      walk(value[k], prop, defs, patch && patchBelow(patch, k));
    }
  }
}

/**
 * Replaces null list items and map values in `obj` by their zero values, in place. With `patch`,
 * `obj` is a stored object with that JSON merge patch applied: only what the patch carried.
 */
export function zeroNullItems(apiVersion: string, kind: string, obj: unknown, patch?: Record<string, unknown>): void {
  const defs = loadDefinitions();
  const name = definitionName(apiVersion, kind, defs);
  if (name) walk(obj, defs[name], defs, patch);
}
