/**
 * Removes the fields of a set from a value: a member path removes the field or item with everything
 * below it; a path that goes on removes inside it. Pruning a manager's dropped fields uses it.
 * Upstream: structured-merge-diff typed/remove.go (RemoveItems).
 */
import type { FieldSet } from './field-set.ts';
import { listItemElement } from './list-items.ts';
import type { Json, Path } from './path.ts';
import { fieldType, isMap, resolve, type MergeType } from './schema.ts';

/** `value` without the fields in `set`; undefined when nothing is left of a list or map that had content. */
export function removeItems(value: Json, set: FieldSet, type: MergeType, path: Path = []): Json | undefined {
  const t = resolve(type, value);
  if (t.kind === 'scalar' || t.kind === 'untyped') return value;
  if (t.kind === 'list') {
    if (!Array.isArray(value) || value.length === 0 || t.atomic) return value;
    const out: Json[] = [];
    value.forEach((item, i) => {
      const pe = listItemElement(t, item, i, path);
      if (set.has([pe])) return;
      const sub = set.withPrefix(pe);
      const kept = sub.empty() ? item : removeItems(item, sub, t.element, [...path, pe]);
      if (kept !== undefined) out.push(kept);
    });
    return out.length ? out : undefined;
  }
  if (!isMap(value) || Object.keys(value).length === 0 || t.atomic) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    const pe = { field: k };
    if (set.has([pe])) continue;
    const sub = set.withPrefix(pe);
    const kept = sub.empty() ? v : removeItems(v, sub, fieldType(t, k), [...path, pe]);
    if (kept !== undefined) out[k] = kept;
  }
  return Object.keys(out).length ? out : undefined;
}
