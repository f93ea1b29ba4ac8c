/**
 * The merge types server-side apply walks: scalars, lists (atomic, or associative — a set of scalars
 * or a map keyed by some fields) and maps (a struct with named fields and/or a map of elements,
 * granular or atomic), read from OpenAPI schemas: `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
 * `x-kubernetes-map-type`, and, for lists that declare no list type, the strategic-merge-patch strategy
 * (merge with a key → map, merge without → set), as kube-openapi's schemaconv does. A value with no
 * schema is "untyped": its maps are granular and its lists atomic (structured-merge-diff's deduced type).
 * Upstream: structured-merge-diff schema/elements.go, kube-openapi pkg/schemaconv.
 */
import { loadDefinitions, definitionNameFor, refName, type Definitions, type Schema } from '../openapi/definitions.ts';
import type { Json } from './path.ts';

export interface FieldType { type: MergeType; required: boolean }

export type MergeType =
  | { kind: 'scalar' }
  | { kind: 'untyped' }
  | { kind: 'list'; atomic: boolean; keys: string[]; keyDefaults: Record<string, Json>; element: MergeType }
  | { kind: 'map'; atomic: boolean; fields?: Map<string, FieldType>; element?: MergeType };

export const SCALAR: MergeType = { kind: 'scalar' };
export const UNTYPED: MergeType = { kind: 'untyped' };
const UNTYPED_MAP: MergeType = { kind: 'map', atomic: false, element: UNTYPED };
const UNTYPED_LIST: MergeType = { kind: 'list', atomic: true, keys: [], keyDefaults: {}, element: UNTYPED };

export function isMap(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The concrete type of `v` under `t`: an untyped value takes the shape of the value. */
export function resolve(t: MergeType, v: unknown): MergeType {
  if (t.kind !== 'untyped') return t;
  if (isMap(v)) return UNTYPED_MAP;
  if (Array.isArray(v)) return UNTYPED_LIST;
  return SCALAR;
}

/** Type of a field of a map type; unknown fields of a struct are untyped. */
export function fieldType(t: MergeType, name: string): MergeType {
  if (t.kind !== 'map') return UNTYPED;
  return t.fields?.get(name)?.type ?? t.element ?? UNTYPED;
}

/** Converts OpenAPI schemas (built-in definitions or a CRD's structural schema) to merge types. */
export class SchemaConverter {
  private readonly byDefinition = new Map<string, MergeType>();
  constructor(private readonly defs: Definitions = {}) {}

  convert(schema: Schema | undefined): MergeType {
    if (!schema) return UNTYPED;
    if (schema.$ref) {
      const name = refName(schema.$ref);
      const cached = this.byDefinition.get(name);
      if (cached) return cached;
      const target = this.defs[name];
      if (!target) return UNTYPED;
      // Placeholder first: definitions may be recursive.
      const placeholder = { kind: 'untyped' } as MergeType;
      this.byDefinition.set(name, placeholder);
      const t = this.convert(target);
      Object.assign(placeholder, t);
      return placeholder;
    }
    if (schema['x-kubernetes-int-or-string']) return SCALAR;
    const type = schema.type;
    if (type === 'array') return this.list(schema);
    if (type === 'object' || schema.properties || schema.additionalProperties) return this.map(schema);
    if (type === undefined && schema['x-kubernetes-preserve-unknown-fields']) return UNTYPED;
    if (type === undefined) return UNTYPED;
    return SCALAR;
  }

  private list(schema: Schema): MergeType {
    const element = this.convert(schema.items);
    const listType = schema['x-kubernetes-list-type'] as string | undefined;
    let atomic = true;
    let keys: string[] = [];
    if (listType === 'map') {
      atomic = false;
      keys = (schema['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
    } else if (listType === 'set') {
      atomic = false;
    } else if (listType === undefined) {
      const strategy = schema['x-kubernetes-patch-strategy'];
      if (typeof strategy === 'string' && strategy.split(',').includes('merge')) {
        atomic = false;
        const key = schema['x-kubernetes-patch-merge-key'];
        if (typeof key === 'string') keys = [key];
      }
    }
    const keyDefaults: Record<string, Json> = {};
    if (keys.length) {
      const itemSchema = this.deref(schema.items);
      for (const k of keys) {
        const d = (itemSchema?.properties?.[k] as { default?: Json } | undefined)?.default;
        if (d !== undefined) keyDefaults[k] = d;
      }
    }
    return { kind: 'list', atomic, keys, keyDefaults, element };
  }

  private map(schema: Schema): MergeType {
    const atomic = schema['x-kubernetes-map-type'] === 'atomic';
    let fields: Map<string, FieldType> | undefined;
    if (schema.properties) {
      fields = new Map();
      const required = new Set(schema.required ?? []);
      for (const [name, s] of Object.entries(schema.properties)) fields.set(name, { type: this.convert(s), required: required.has(name) });
    }
    let element: MergeType | undefined;
    if (typeof schema.additionalProperties === 'object') element = this.convert(schema.additionalProperties);
    else if (schema.additionalProperties === true || schema['x-kubernetes-preserve-unknown-fields'] || !fields) element = UNTYPED;
    return { kind: 'map', atomic, fields, element };
  }

  private deref(s: Schema | undefined): Schema | undefined {
    for (let i = 0; s?.$ref && i < 16; i++) s = this.defs[refName(s.$ref)];
    return s;
  }
}

let builtin: SchemaConverter | undefined;

/** The merge type of a built-in kind from the served OpenAPI definitions; untyped when Berth has none. */
export function typeForKind(apiVersion: string, kind: string): MergeType {
  const defs = loadDefinitions();
  const name = definitionNameFor(apiVersion, kind, defs);
  if (!name) return UNTYPED;
  builtin ??= new SchemaConverter(defs);
  return builtin.convert({ $ref: `#/definitions/${name}` });
}
