/**
 * The set of fields a value sets: every scalar, every item of an associative list, each atomic
 * list or map as one leaf, the keys of plain maps, and empty or null fields. Applied configurations
 * are owned as this set. Upstream: structured-merge-diff typed/tofieldset.go.
 */
import { FieldSet } from './field-set.ts';
import { listItemElement, MergeError } from './list-items.ts';
import { serializePathElement, type Json, type Path } from './path.ts';
import { fieldType, isMap, resolve, type MergeType } from './schema.ts';

/**
 * `strict` (an applied configuration): duplicate items of an associative list are a MergeError, as
 * upstream refuses them in what is applied; live objects may have them and own them whole.
 */
export function toFieldSet(value: Json, type: MergeType, opts: { strict?: boolean } = {}): FieldSet {
  const set = new FieldSet();
  walk(value, type, [], set, !!opts.strict);
  return set;
}

function walk(v: Json, t0: MergeType, path: Path, set: FieldSet, strict: boolean): void {
  const t = resolve(t0, v);
  if (t.kind === 'scalar' || t.kind === 'untyped') {
    set.insert(path);
    return;
  }
  if (t.kind === 'list') {
    if (t.atomic || !Array.isArray(v)) {
      set.insert(path);
      return;
    }
    const pes = v.map((item, i) => listItemElement(t, item, i, path));
    const count = new Map<string, number>();
    for (const pe of pes) count.set(serializePathElement(pe), (count.get(serializePathElement(pe)) ?? 0) + 1);
    pes.forEach((pe, i) => {
      const k = serializePathElement(pe);
      const n = count.get(k)!;
      if (n > 1) {
        if (strict) throw new MergeError(path, `duplicate entries for key ${k.slice(2)}`);
        // Duplicated items are owned whole, once.
        if (n > 0) set.insert([...path, pe]);
        count.set(k, -1);
        return;
      }
      if (n < 0) return;
      walk(v[i], t.element, [...path, pe], set, strict);
      set.insert([...path, pe]);
    });
    return;
  }
  if (t.atomic || !isMap(v)) {
    set.insert(path);
    return;
  }
  for (const [key, val] of Object.entries(v)) {
    const p = [...path, { field: key }];
    walk(val, fieldType(t, key), p, set, strict);
    if (val === null || (isMap(val) && Object.keys(val).length === 0) || !t.fields?.has(key)) set.insert(p);
  }
}
