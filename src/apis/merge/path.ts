/**
 * Field paths of server-side apply: a path is a list of elements, each a field name (`f:`), the key
 * of an associative-list item (`k:{…}`), the value of a set item (`v:…`) or a list index (`i:`).
 * Upstream: sigs.k8s.io/structured-merge-diff fieldpath (element.go, path.go, serialize-pe.go).
 */

/** A JSON value as it appears in objects. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export type PathElement =
  | { field: string }
  | { key: [string, Json][] } // sorted by name
  | { value: Json }
  | { index: number };

export type Path = PathElement[];

/** Rank of a JSON value's type in structured-merge-diff's value ordering (value.Compare). */
function typeRank(v: Json): number {
  if (typeof v === 'number') return 1; // ints and floats compare as numbers
  if (typeof v === 'string') return 2;
  if (typeof v === 'boolean') return 3;
  if (Array.isArray(v)) return 4;
  if (v === null) return 6; // null sorts after everything
  return 5;
}

/** Total order on JSON values, as structured-merge-diff's value.Compare. */
export function compareValues(a: Json, b: Json): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number') return a < (b as number) ? -1 : a > (b as number) ? 1 : 0;
  if (typeof a === 'string') return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  if (typeof a === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a)) {
    const bl = b as Json[];
    for (let i = 0; i < Math.min(a.length, bl.length); i++) {
      const c = compareValues(a[i], bl[i]);
      if (c) return c;
    }
    return a.length - bl.length;
  }
  if (a === null) return 0;
  const bo = b as Record<string, Json>;
  const ak = Object.keys(a).sort();
  const bk = Object.keys(bo).sort();
  for (let i = 0; i < Math.min(ak.length, bk.length); i++) {
    if (ak[i] !== bk[i]) return ak[i] < bk[i] ? -1 : 1;
    const c = compareValues(a[ak[i]], bo[bk[i]]);
    if (c) return c;
  }
  return ak.length - bk.length;
}

function typeOrder(pe: PathElement): number {
  if ('field' in pe) return 0;
  if ('key' in pe) return 1;
  if ('value' in pe) return 2;
  return 3;
}

/** Field names before keys before values before indexes; then by content (PathElement.Compare). */
export function comparePathElements(a: PathElement, b: PathElement): number {
  const ta = typeOrder(a);
  const tb = typeOrder(b);
  if (ta !== tb) return ta - tb;
  if ('field' in a) return a.field < (b as { field: string }).field ? -1 : a.field > (b as { field: string }).field ? 1 : 0;
  if ('key' in a) {
    const bk = (b as { key: [string, Json][] }).key;
    for (let i = 0; i < Math.min(a.key.length, bk.length); i++) {
      if (a.key[i][0] !== bk[i][0]) return a.key[i][0] < bk[i][0] ? -1 : 1;
      const c = compareValues(a.key[i][1], bk[i][1]);
      if (c) return c;
    }
    return a.key.length - bk.length;
  }
  if ('value' in a) return compareValues(a.value, (b as { value: Json }).value);
  return a.index - (b as { index: number }).index;
}

/** JSON with object keys in insertion order, as Go's encoder writes an unstructured value. */
function json(v: Json): string {
  return JSON.stringify(v);
}

/** The fieldsV1 key of an element: `f:name`, `k:{"name":"web"}`, `v:"x"`, `i:0`. */
export function serializePathElement(pe: PathElement): string {
  if ('field' in pe) return `f:${pe.field}`;
  if ('key' in pe) return `k:{${pe.key.map(([k, v]) => `${JSON.stringify(k)}:${json(v)}`).join(',')}}`;
  if ('value' in pe) return `v:${json(pe.value)}`;
  return `i:${pe.index}`;
}

/** Parses a fieldsV1 key; throws on anything else (upstream answers such managedFields with an error). */
export function deserializePathElement(s: string): PathElement {
  if (s.length < 2 || s[1] !== ':') throw new Error(`invalid path element ${JSON.stringify(s)}: missing colon`);
  const rest = s.slice(2);
  switch (s[0]) {
    case 'f':
      return { field: rest };
    case 'v':
      return { value: JSON.parse(rest) as Json };
    case 'k': {
      const obj = JSON.parse(rest) as unknown;
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`invalid key ${JSON.stringify(rest)}`);
      return { key: sortKey(Object.entries(obj as Record<string, Json>)) };
    }
    case 'i': {
      if (!/^-?\d+$/.test(rest)) throw new Error(`invalid index ${JSON.stringify(rest)}`);
      return { index: Number(rest) };
    }
    default:
      throw new Error(`unknown path element type in ${JSON.stringify(s)}`);
  }
}

export function sortKey(fields: [string, Json][]): [string, Json][] {
  return [...fields].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A value as structured-merge-diff prints it in paths: strings quoted (Go's %q), others plain. */
function valueString(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}=${valueString(x)}`).join('');
  return String(v);
}

/** `.spec.replicas`, `[name="web"]`, `[="x"]`, `[0]` — the form conflict messages use. */
export function pathElementString(pe: PathElement): string {
  if ('field' in pe) return `.${pe.field}`;
  if ('key' in pe) return `[${pe.key.map(([k, v]) => `${k}=${valueString(v)}`).join(',')}]`;
  if ('value' in pe) return `[=${valueString(pe.value)}]`;
  return `[${pe.index}]`;
}

export function pathString(path: Path): string {
  return path.map(pathElementString).join('');
}

/** Builds a path from field names (strings) and indexes (numbers), for tests and fixed sets. */
export function makePath(...parts: (string | number)[]): Path {
  return parts.map((p) => (typeof p === 'number' ? { index: p } : { field: p }));
}
