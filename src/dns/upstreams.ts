/**
 * Where queries outside the cluster domain go: `ip[:port]` strings (IPv6 as `[addr]:port` or a bare
 * address), defaulting to the host's /etc/resolv.conf nameservers as CoreDNS's
 * `forward . /etc/resolv.conf` does.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
  family: 4 | 6;
}

/** Parses `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353`. Throws on anything else (names are not allowed: no DNS to find DNS). */
export function parseUpstream(s: string): Upstream {
  let host = s.trim();
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if (isIP(host) === 0) {
    const i = host.lastIndexOf(':');
    if (i > 0 && isIP(host.slice(0, i)) === 4) {
      port = Number(host.slice(i + 1));
      host = host.slice(0, i);
    }
  }
  const family = isIP(host);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad DNS upstream "${s}": want ip[:port]`);
  return { host, port, family: family as 4 | 6 };
}

/** The `nameserver` lines of a resolv.conf text (scoped IPv6 addresses skipped). */
export function nameserversOf(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIP(m[1]) !== 0) out.push(m[1]);
  }
  return out;
}

/** The host's nameservers from /etc/resolv.conf; empty when unreadable. */
export function hostNameservers(path = '/etc/resolv.conf'): string[] {
  try {
    return nameserversOf(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}
