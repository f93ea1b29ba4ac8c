/**
 * How an item of an associative list is named in a field path: by its key fields (`k:{"name":"web"}`,
 * missing keys taking the schema's default), or, in a set, by its value (`v:"x"`). An item that cannot
 * be named is a MergeError — the apply is refused, as structured-merge-diff refuses it.
 * Upstream: structured-merge-diff typed/helpers.go (listItemToPathElement).
 */
import { isMap, type MergeType } from './schema.ts';
import { sortKey, type Json, type Path, type PathElement } from './path.ts';
import { pathString } from './path.ts';

/** A value that does not fit its schema for merging (duplicate keys, missing keys, wrong shapes). */
export class MergeError extends Error {
  constructor(readonly path: Path, message: string) {
    super(path.length ? `${pathString(path)}: ${message}` : message);
  }
}

type ListType = Extract<MergeType, { kind: 'list' }>;

export function listItemElement(t: ListType, item: Json, index: number, path: Path): PathElement {
  if (t.atomic) return { index };
  if (t.keys.length) {
    if (!isMap(item)) throw new MergeError([...path, { index }], 'associative list with keys has an element that is not a map');
    const fields: [string, Json][] = [];
    for (const k of t.keys) {
      const v = item[k] ?? t.keyDefaults[k];
      if (v === undefined || v === null) {
        throw new MergeError([...path, { index }], `associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
      }
      if (typeof v === 'object') throw new MergeError([...path, { index }], `associative list key field ${JSON.stringify(k)} must be a scalar`);
      fields.push([k, v]);
    }
    return { key: sortKey(fields) };
  }
  if (isMap(item)) throw new MergeError([...path, { index }], "associative list without keys has an element that's a map type");
  if (Array.isArray(item)) throw new MergeError([...path, { index }], "associative list without keys has an element that's a list type");
  return { value: item };
}
