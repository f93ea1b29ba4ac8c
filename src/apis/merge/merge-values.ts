/**
 * Merges an applied configuration into the live object: scalars and atomic lists/maps are replaced,
 * granular maps merged key by key, associative lists merged item by item (an item named in both is
 * merged; the result keeps the configuration's order for its items and places live-only items where
 * they were). Upstream: structured-merge-diff typed/merge.go with the keep-right-hand-side rule.
 */
import { listItemElement, MergeError } from './list-items.ts';
import { serializePathElement, type Json, type Path, type PathElement } from './path.ts';
import { fieldType, isMap, resolve, type MergeType } from './schema.ts';
import { clone } from '../object.ts';

/** `rhs` (the configuration) merged over `lhs` (the live value). Neither input is changed. */
export function mergeValues(lhs: Json | undefined, rhs: Json | undefined, type: MergeType, path: Path = []): Json | undefined {
  if (rhs === undefined) return lhs === undefined ? undefined : clone(lhs);
  if (lhs === undefined) return clone(rhs);
  const tl = resolve(type, lhs);
  const tr = resolve(type, rhs);
  // Values of different shapes (only possible for untyped values): the configuration wins.
  if (tl.kind !== tr.kind) return clone(rhs);
  const t = tr;
  if (t.kind === 'scalar' || t.kind === 'untyped') return clone(rhs);
  if (t.kind === 'list') {
    if (!Array.isArray(lhs) || !Array.isArray(rhs)) return clone(rhs);
    if (t.atomic || (lhs.length === 0 && rhs.length === 0)) return clone(rhs);
    return mergeLists(t, lhs, rhs, path);
  }
  if (!isMap(lhs) || !isMap(rhs)) return clone(rhs);
  if (t.atomic || (Object.keys(lhs).length === 0 && Object.keys(rhs).length === 0)) return clone(rhs);
  const out: Record<string, Json> = {};
  for (const key of Object.keys(lhs)) {
    const merged = mergeValues(lhs[key], Object.hasOwn(rhs, key) ? rhs[key] : undefined, fieldType(t, key), [...path, { field: key }]);
    if (merged !== undefined) out[key] = merged;
  }
  for (const key of Object.keys(rhs)) {
    if (Object.hasOwn(lhs, key)) continue;
    const merged = mergeValues(undefined, rhs[key], fieldType(t, key), [...path, { field: key }]);
    if (merged !== undefined) out[key] = merged;
  }
  return out;
}

type ListType = Extract<MergeType, { kind: 'list' }>;

function index(t: ListType, list: Json[], path: Path, allowDuplicates: boolean) {
  const pes: PathElement[] = [];
  const keys: string[] = [];
  const observed = new Map<string, Json | undefined>();
  list.forEach((item, i) => {
    const pe = listItemElement(t, item, i, path);
    const k = serializePathElement(pe);
    if (observed.has(k)) {
      if (!allowDuplicates) throw new MergeError(path, `duplicate entries for key ${k.slice(2)}`);
      // A duplicated live item: the configuration's item replaces all of them.
      observed.set(k, undefined);
    } else observed.set(k, item);
    pes.push(pe);
    keys.push(k);
  });
  return { pes, keys, observed };
}

function mergeLists(t: ListType, lhs: Json[], rhs: Json[], path: Path): Json[] {
  const r = index(t, rhs, path, false);
  const l = index(t, lhs, path, true);
  const out: Json[] = [];
  const item = (pe: PathElement, a: Json | undefined, b: Json | undefined) => {
    const m = mergeValues(a, b, t.element, [...path, pe]);
    if (m !== undefined) out.push(m);
  };
  // The order of items both sides name follows the configuration.
  const sharedOrder = r.keys.filter((k) => l.observed.has(k));
  let nextShared = sharedOrder.shift();
  const mergedRHS = new Set<string>();
  let li = 0;
  let ri = 0;
  while (li < l.keys.length || ri < r.keys.length) {
    if (li < l.keys.length && ri < r.keys.length) {
      const lk = l.keys[li];
      if (lk === r.keys[ri]) {
        mergedRHS.add(lk);
        item(l.pes[li], l.observed.get(lk), r.observed.get(lk));
        li++;
        ri++;
        nextShared = sharedOrder.shift();
        continue;
      }
      if (r.observed.has(lk) && nextShared !== undefined && nextShared !== lk) {
        li++;
        continue;
      }
    }
    if (li < l.keys.length) {
      const lk = l.keys[li];
      if (!r.observed.has(lk)) {
        item(l.pes[li], lhs[li], undefined);
        li++;
        continue;
      } else if (mergedRHS.has(lk)) li++;
    }
    if (ri < r.keys.length) {
      const rk = r.keys[ri];
      mergedRHS.add(rk);
      item(r.pes[ri], l.observed.get(rk), r.observed.get(rk));
      ri++;
      if (nextShared !== undefined && nextShared === rk) nextShared = sharedOrder.shift();
    }
  }
  return out;
}
