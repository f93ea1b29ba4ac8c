/**
 * Small IPv4 CIDR helpers (parse, format, contain, overlap). Berth's pod and service networks are
 * IPv4-only for now; these avoid a dependency for the handful of operations the agent needs.
 */

/** A parsed IPv4 CIDR: `base` is the network address (host bits cleared) as an unsigned 32-bit int. */
export interface Cidr {
  base: number;
  prefix: number;
}

/** Parses a dotted-quad IPv4 address into an unsigned 32-bit integer; throws on malformed input. */
export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address "${ip}"`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`invalid IPv4 address "${ip}"`);
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

/** Formats an unsigned 32-bit integer as a dotted-quad IPv4 address. */
export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Parses `a.b.c.d/n` (or a bare address, meaning /32). With `strict`, host bits must be zero
 * (`10.0.0.1/24` is rejected); otherwise they are cleared, as for an interface address.
 */
export function parseCidr(text: string, strict = false): Cidr {
  const [ip, len, extra] = text.trim().split('/');
  if (extra !== undefined || ip === undefined) throw new Error(`invalid CIDR "${text}"`);
  const prefix = len === undefined ? 32 : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32 || (len !== undefined && !/^\d+$/.test(len))) {
    throw new Error(`invalid CIDR "${text}": bad prefix length`);
  }
  const addr = ipToInt(ip);
  const base = (addr & maskOf(prefix)) >>> 0;
  if (strict && base !== addr) throw new Error(`invalid CIDR "${text}": host bits set (did you mean ${intToIp(base)}/${prefix}?)`);
  return { base, prefix };
}

/** Formats a Cidr as `a.b.c.d/n`. */
export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

/** Last address of the range, as an unsigned int. */
function lastOf(c: Cidr): number {
  return (c.base + 2 ** (32 - c.prefix) - 1) >>> 0;
}

/** True when the two ranges share at least one address. */
export function cidrsOverlap(a: Cidr | string, b: Cidr | string): boolean {
  const x = typeof a === 'string' ? parseCidr(a) : a;
  const y = typeof b === 'string' ? parseCidr(b) : b;
  return x.base <= lastOf(y) && y.base <= lastOf(x);
}

/** True when `inner` (a CIDR or a bare address) lies entirely inside `outer`. */
export function cidrContains(outer: Cidr | string, inner: Cidr | string): boolean {
  const o = typeof outer === 'string' ? parseCidr(outer) : outer;
  const i = typeof inner === 'string' ? parseCidr(inner) : inner;
  return i.prefix >= o.prefix && i.base >= o.base && lastOf(i) <= lastOf(o);
}

/** The n-th address of a range (n = 1 is the conventional gateway), as dotted quad. */
export function nthAddress(c: Cidr | string, n: number): string {
  const x = typeof c === 'string' ? parseCidr(c) : c;
  if (n < 0 || x.base + n > lastOf(x)) throw new Error(`address #${n} is outside ${formatCidr(x)}`);
  return intToIp((x.base + n) >>> 0);
}
