/**
 * The schema lookups of the field-validation walks (type-validation.ts, unknown-fields.ts,
 * null-items.ts), memoized: each walk resolves a `$ref` at every node of a body, and a kind's
 * definition name on every call — allocations and string slicing that were 2–3 % of a pod status
 * patch's server CPU (bench/sched-writes.ts). Same answers as definitions.ts's resolveSchema and
 * definitionNameFor; kept per Definitions object, which is never changed once loaded.
 */
import { definitionNameFor, resolveSchema, type Definitions, type Schema } from '../../apis/openapi/definitions.ts';

const resolvedIn = new WeakMap<Definitions, WeakMap<Schema, Schema | null>>();
const namesIn = new WeakMap<Definitions, Map<string, string | null>>();

/** The concrete schema `schema` stands for (its `$ref`s followed), as resolveSchema's `schema`. */
export function resolved(schema: Schema | undefined, defs: Definitions): Schema | undefined {
  if (!schema) return undefined;
  if (!schema.$ref) return schema;
  let memo = resolvedIn.get(defs);
  if (!memo) resolvedIn.set(defs, (memo = new WeakMap()));
  let s = memo.get(schema);
  if (s === undefined) memo.set(schema, (s = resolveSchema(schema, defs).schema ?? null));
  return s ?? undefined;
}

/** definitionNameFor(apiVersion, kind, defs), remembered. */
export function definitionName(apiVersion: string, kind: string, defs: Definitions): string | undefined {
  let memo = namesIn.get(defs);
  if (!memo) namesIn.set(defs, (memo = new Map()));
  const key = `${apiVersion} ${kind}`;
  let name = memo.get(key);
  if (name === undefined) memo.set(key, (name = definitionNameFor(apiVersion, kind, defs) ?? null));
  return name ?? undefined;
}
