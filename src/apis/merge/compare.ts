/**
 * What changed between two values, as three field sets: added, modified and removed. An Update
 * write gives its manager the added and modified fields and takes them from everyone else; an apply
 * conflicts when another manager owns one of them. Upstream: structured-merge-diff typed/compare.go.
 *
 * Upstream compares against Go objects, in which non-pointer structs and non-omitempty lists always
 * exist; so a struct field (or a required list) that appears is not itself "added", only its
 * contents. `markStructs` (custom resources, compared as plain JSON upstream too) marks them as well.
 */
import { isDeepStrictEqual } from 'node:util';
import { FieldSet } from './field-set.ts';
import { listItemElement } from './list-items.ts';
import { serializePathElement, type Json, type Path, type PathElement } from './path.ts';
import { fieldType, isMap, resolve, type MergeType } from './schema.ts';

export interface Comparison { added: FieldSet; modified: FieldSet; removed: FieldSet }

export function compareValues(lhs: Json | undefined, rhs: Json | undefined, type: MergeType, opts: { markStructs?: boolean } = {}): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  walk(lhs, rhs, type, [], c, opts.markStructs ?? false, true);
  return c;
}

function leaf(lhs: Json | undefined, rhs: Json | undefined, path: Path, c: Comparison): void {
  if (lhs === undefined) c.added.insert(path);
  else if (rhs === undefined) c.removed.insert(path);
  else if (!isDeepStrictEqual(lhs, rhs)) c.modified.insert(path);
}

/** `mark`: whether this node, when it appears or disappears as a whole, is itself added or removed. */
function walk(lhs: Json | undefined, rhs: Json | undefined, type: MergeType, path: Path, c: Comparison, markStructs: boolean, mark: boolean): void {
  if (lhs === undefined && rhs === undefined) return;
  const tl = lhs === undefined ? undefined : resolve(type, lhs);
  const tr = rhs === undefined ? undefined : resolve(type, rhs);
  if (tl && tr && tl.kind !== tr.kind) {
    c.modified.insert(path);
    return;
  }
  const t = (tr ?? tl)!;
  if (t.kind === 'scalar' || t.kind === 'untyped') return leaf(lhs, rhs, path, c);
  if (t.kind === 'list') {
    const l = Array.isArray(lhs) ? lhs : undefined;
    const r = Array.isArray(rhs) ? rhs : undefined;
    if (t.atomic || ((!l || !l.length) && (!r || !r.length)) || (lhs !== undefined && !l) || (rhs !== undefined && !r)) return leaf(lhs, rhs, path, c);
    compareLists(t, l ?? [], r ?? [], path, c, markStructs);
  } else {
    const l = isMap(lhs) ? lhs : undefined;
    const r = isMap(rhs) ? rhs : undefined;
    const emptyL = !l || !Object.keys(l).length;
    const emptyR = !r || !Object.keys(r).length;
    if (t.atomic || (emptyL && emptyR) || (lhs !== undefined && !l) || (rhs !== undefined && !r)) return leaf(lhs, rhs, path, c);
    const keys = new Set([...Object.keys(l ?? {}), ...Object.keys(r ?? {})]);
    for (const key of keys) {
      const ft = fieldType(t, key);
      const field = t.kind === 'map' ? t.fields?.get(key) : undefined;
      // Struct-valued and required fields exist in upstream's zero-valued Go objects.
      const resolved = resolve(ft, (r?.[key] ?? l?.[key]) as Json);
      const childMark = markStructs || !field || !(field.required || (resolved.kind === 'map' && resolved.fields !== undefined));
      walk(l?.[key], r?.[key], ft, [...path, { field: key }], c, markStructs, childMark);
    }
  }
  if (mark && path.length) {
    if (lhs === undefined) c.added.insert(path);
    else if (rhs === undefined) c.removed.insert(path);
  }
}

type ListType = Extract<MergeType, { kind: 'list' }>;

function compareLists(t: ListType, lhs: Json[], rhs: Json[], path: Path, c: Comparison, markStructs: boolean): void {
  const order: { k: string; pe: PathElement }[] = [];
  const lv = new Map<string, Json[]>();
  const rv = new Map<string, Json[]>();
  lhs.forEach((item, i) => {
    const pe = listItemElement(t, item, i, path);
    const k = serializePathElement(pe);
    if (!lv.has(k)) {
      lv.set(k, []);
      order.push({ k, pe });
    }
    lv.get(k)!.push(item);
  });
  rhs.forEach((item, i) => {
    const pe = listItemElement(t, item, i, path);
    const k = serializePathElement(pe);
    if (!rv.has(k)) {
      rv.set(k, []);
      if (!lv.has(k)) order.push({ k, pe });
    }
    rv.get(k)!.push(item);
  });
  for (const { k, pe } of order) {
    const l = lv.get(k) ?? [];
    const r = rv.get(k) ?? [];
    const p = [...path, pe];
    if (l.length <= 1 && r.length <= 1) walk(l[0], r[0], t.element, p, c, markStructs, true);
    else if (l.length >= 2 && r.length >= 2) {
      if (!isDeepStrictEqual(l, r)) c.modified.insert(p);
    } else if (l.length >= 2) {
      if (r.length) walk(undefined, r[0], t.element, p, c, markStructs, true);
      c.removed.insert(p);
    } else {
      if (l.length) walk(l[0], undefined, t.element, p, c, markStructs, true);
      c.added.insert(p);
    }
  }
}
