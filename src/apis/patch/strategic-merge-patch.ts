/**
 * Kubernetes' strategic merge patch (`application/strategic-merge-patch+json`), as kubectl apply,
 * edit and patch send it. Like a JSON merge patch, except that lists whose field declares
 * `patchStrategy: merge` are merged: object lists item by item on their merge key, primitive lists
 * as a union. Directives:
 * - `$patch: replace | delete | merge` on a map (replace it, delete it, merge it — the default), and
 *   a `{"$patch": "replace"}` element in a list (the list becomes the other patch elements);
 * - list elements `{"<mergeKey>": k, "$patch": "delete"}` remove the item with that key;
 * - `$retainKeys: [...]` drops the original's keys not listed;
 * - `$deleteFromPrimitiveList/<field>: [...]` removes values from a primitive list;
 * - `$setElementOrder/<field>: [...]` orders the merged list (server-only items keep their place).
 * Types are navigated with the OpenAPI definitions; merge keys come from merge-keys.ts.
 */
import { clone, isObject } from '../object.ts';
import { loadDefinitions, resolveSchema, type Definitions, type Schema } from '../openapi/definitions.ts';
import { hasStrategy, patchMetaFor, type PatchMeta } from './merge-keys.ts';
import { jsonEqual } from './json-patch.ts';
import { PatchError } from './patch-error.ts';

type JsonMap = Record<string, unknown>;
/** Marker returned when a map patch says `$patch: delete`. */
const DELETE = Symbol('delete');

const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

interface Field {
  schema?: Schema;
  meta?: PatchMeta;
}

/** Schema and patch metadata of `key` inside a map described by `ctx`. */
function fieldOf(ctx: Schema | undefined, key: string, defs: Definitions): Field {
  const { schema, defName } = resolveSchema(ctx, defs);
  if (!schema) return {};
  const prop = schema.properties?.[key] ?? (isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined);
  let meta = patchMetaFor(defName, key);
  if (!meta && prop?.['x-kubernetes-patch-strategy']) {
    meta = { strategy: prop['x-kubernetes-patch-strategy'], mergeKey: prop['x-kubernetes-patch-merge-key'] };
  }
  return { schema: prop, meta };
}

function itemsOf(schema: Schema | undefined, defs: Definitions): Schema | undefined {
  return resolveSchema(schema, defs).schema?.items;
}

function mergeMap(original: JsonMap, patch: JsonMap, ctx: Schema | undefined, defs: Definitions): JsonMap | typeof DELETE {
  const directive = patch.$patch;
  if (directive !== undefined) {
    if (directive === 'delete') return DELETE;
    if (directive === 'replace') {
      const { $patch: _, ...rest } = patch;
      return mergeMap({}, rest, ctx, defs) as JsonMap;
    }
    if (directive !== 'merge') throw new PatchError(`unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const out: JsonMap = { ...original };
  if (patch.$retainKeys !== undefined) {
    const keep = patch.$retainKeys;
    if (!Array.isArray(keep) || !keep.every((k) => typeof k === 'string')) throw new PatchError('$retainKeys must be a list of strings', 400);
    for (const k of Object.keys(out)) if (!keep.includes(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(DELETE_PRIMITIVE)) continue;
    if (!Array.isArray(v)) throw new PatchError(`${k} must be a list`, 400);
    const field = k.slice(DELETE_PRIMITIVE.length);
    const cur = out[field];
    if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.some((d) => jsonEqual(d, x)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const merged = mergeValue(out[k], v, fieldOf(ctx, k, defs), defs);
    if (merged === DELETE) delete out[k];
    else out[k] = merged;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER)) continue;
    if (!Array.isArray(v)) throw new PatchError(`${k} must be a list`, 400);
    const field = k.slice(SET_ORDER.length);
    const list = out[field];
    if (Array.isArray(list)) {
      const server = Array.isArray(original[field]) ? (original[field] as unknown[]) : [];
      out[field] = reorder(list, v, server, fieldOf(ctx, field, defs).meta?.mergeKey);
    }
  }
  return out;
}

function mergeValue(original: unknown, patch: unknown, field: Field, defs: Definitions): unknown {
  if (isObject(patch)) {
    if (hasStrategy(field.meta, 'replace')) return mergeMap({}, patch, field.schema, defs);
    return mergeMap(isObject(original) ? original : {}, patch, field.schema, defs);
  }
  if (Array.isArray(patch)) {
    if (!hasStrategy(field.meta, 'merge')) return clone(patch);
    return mergeList(Array.isArray(original) ? original : [], patch, field.meta!.mergeKey, itemsOf(field.schema, defs), defs);
  }
  return patch;
}

function mergeList(original: unknown[], patch: unknown[], mergeKey: string | undefined, itemSchema: Schema | undefined, defs: Definitions): unknown[] {
  const replace = patch.find((e) => isObject(e) && e.$patch === 'replace');
  if (replace) {
    return patch.filter((e) => e !== replace).map((e) => (isObject(e) ? mergeMap({}, e, itemSchema, defs) : e)) as unknown[];
  }
  if (!mergeKey) {
    // Primitive list with merge strategy: union, original order first.
    const out = [...original];
    for (const v of patch) {
      if (isObject(v)) throw new PatchError(`list of primitives cannot contain map ${JSON.stringify(v)}`, 400);
      if (!out.some((x) => jsonEqual(x, v))) out.push(v);
    }
    return out;
  }
  let out = [...original];
  const same = (x: unknown, key: unknown) => isObject(x) && jsonEqual(x[mergeKey], key);
  for (const el of patch) {
    if (!isObject(el)) throw new PatchError(`list with merge key "${mergeKey}" cannot contain ${JSON.stringify(el)}`, 400);
    if (el.$patch === 'delete') {
      if (!(mergeKey in el)) throw new PatchError(`delete directive without merge key "${mergeKey}": ${JSON.stringify(el)}`, 400);
      out = out.filter((x) => !same(x, el[mergeKey]));
      continue;
    }
    if (!(mergeKey in el)) throw new PatchError(`map: ${JSON.stringify(el)} does not contain declared merge key: ${mergeKey}`);
    const i = out.findIndex((x) => same(x, el[mergeKey]));
    const merged = mergeMap(i >= 0 ? (out[i] as JsonMap) : {}, el, itemSchema, defs);
    if (merged === DELETE) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = merged;
    else out.push(merged);
  }
  return out;
}

/**
 * Orders `list` as `$setElementOrder` says: items named in `order` follow its order; the others
 * (server-only) keep their relative place, interleaved by their position in the server's list
 * (the way Kubernetes' normalizeElementOrder / mergeSortedSlice do it).
 */
function reorder(list: unknown[], order: unknown[], server: unknown[], mergeKey: string | undefined): unknown[] {
  const keyOf = (x: unknown) => (mergeKey ? (isObject(x) ? x[mergeKey] : undefined) : x);
  const indexIn = (arr: unknown[], x: unknown) => arr.findIndex((y) => jsonEqual(keyOf(y), keyOf(x)));
  const ordered = list.filter((x) => indexIn(order, x) >= 0).sort((a, b) => indexIn(order, a) - indexIn(order, b));
  const serverOnly = list.filter((x) => indexIn(order, x) < 0);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < ordered.length) {
    if (j >= ordered.length) out.push(serverOnly[i++]);
    else if (i >= serverOnly.length) out.push(ordered[j++]);
    else {
      const li = indexIn(server, serverOnly[i]);
      const ri = indexIn(server, ordered[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]);
      else out.push(ordered[j++]);
    }
  }
  return out;
}

/**
 * Applies a strategic merge patch to a copy of `original`. `defName` is the OpenAPI definition of
 * the object (`io.k8s.api.apps.v1.Deployment`); unknown definitions degrade to a JSON merge patch
 * with `$patch` directives. Throws PatchError on malformed patches.
 */
export function applyStrategicMergePatch<T extends object>(original: T, patch: object, defName: string, defs: Definitions = loadDefinitions()): T {
  if (!isObject(patch)) throw new PatchError('strategic merge patch must be a JSON object', 400);
  const result = mergeMap(clone(original) as JsonMap, patch, { $ref: `#/definitions/${defName}` }, defs);
  return (result === DELETE ? {} : result) as T;
}
