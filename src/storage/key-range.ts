/**
 * Key-range helpers shared by the backends: the exclusive upper bound of a prefix, and the first key
 * a page should start at.
 */

/**
 * The smallest string greater than every string starting with `prefix`, comparing by code point
 * (which is also SQLite's BINARY order on UTF-8 text). Undefined for the empty prefix (no bound).
 */
export function prefixEndString(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    // Skip the surrogate hole and the end of Unicode: such a character cannot simply be bumped.
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return points.join('') + String.fromCodePoint(next);
  }
  return undefined;
}

/**
 * The exclusive end of the byte range holding every key with `prefix`, as etcd expects:
 * increment the last byte below 0xff and drop what follows; `\0` means "no upper bound".
 */
export function prefixEndBytes(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] += 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** The first key of a page: `after` + NUL when `after` is within or beyond the prefix, else the prefix. */
export function pageStart(prefix: string, after: string | undefined): string {
  if (after === undefined || after === '') return prefix;
  const next = after + '\0';
  return next > prefix ? next : prefix;
}
