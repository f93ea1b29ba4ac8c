/**
 * Small helpers for DNS names: normalising (lower case, no trailing dot), zone membership, and the
 * dashed-IPv4 labels Kubernetes DNS uses (`10-1-2-3`) and reverse names (`3.2.1.10.in-addr.arpa`).
 */
import { isIPv4 } from 'node:net';

/** Lower case without the trailing dot: the form every lookup compares. */
export function normalizeName(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n.toLowerCase();
}

/** Labels of `name` left of `zone` (both normalised), or undefined when `name` is outside `zone`. */
export function labelsInZone(name: string, zone: string): string[] | undefined {
  if (name === zone) return [];
  if (!name.endsWith('.' + zone)) return undefined;
  return name.slice(0, -(zone.length + 1)).split('.');
}

/** `10-1-2-3` → `10.1.2.3`; undefined when the label is not a dashed IPv4 address. */
export function ipFromDashed(label: string): string | undefined {
  const ip = label.replace(/-/g, '.');
  // isIPv4 rejects leading zeros beyond one digit and out-of-range octets.
  return /^\d+-\d+-\d+-\d+$/.test(label) && isIPv4(ip) ? ip : undefined;
}

export function dashedIp(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

/** `3.2.1.10.in-addr.arpa` → `10.1.2.3`; undefined for anything else (partial names, IPv6). */
export function ipFromReverse(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return isIPv4(ip) ? ip : undefined;
}
