/**
 * Deep equality of decoded JSON values, for the write path's "did anything change" checks
 * (upstream compares the encoded bytes of typed objects, whose field order is fixed; Berth's objects
 * keep their clients' key order, so it compares values). Several times cheaper than
 * util.isDeepStrictEqual, which also checks prototypes, symbols and property descriptors that JSON
 * values do not have. A key whose value is undefined counts as present, as for isDeepStrictEqual.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

