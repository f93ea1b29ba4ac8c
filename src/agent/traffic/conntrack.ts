/**
 * Reads the kernel's connection tracking table (/proc/net/nf_conntrack, the same table `conntrack
 * -L` prints) into flows: the original tuple (who opened it, to where) and the reply tuple (who
 * answered) — a reply source that differs from the original destination is a DNAT, i.e. a
 * connection to a Service answered by one of its pods. Weave Scope's probe reads the same table
 * (its endpoint/conntrack.go, through the conntrack tool).
 */
import { readFile } from 'node:fs/promises';

export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface Flow {
  proto: 'tcp' | 'udp' | 'sctp';
  /** TCP state (ESTABLISHED, TIME_WAIT …); empty for UDP. */
  state: string;
  orig: Tuple;
  reply: Tuple;
  /** Bytes both ways, when the kernel counts them (net.netfilter.nf_conntrack_acct=1). */
  bytes?: number;
}

const PROTOS = new Set(['tcp', 'udp', 'sctp']);

/**
 * One line of /proc/net/nf_conntrack (`ipv4 2 tcp 6 431999 ESTABLISHED src=… dst=… sport=… dport=…
 * [packets=… bytes=…] src=… … [ASSURED] mark=0 use=2`) or of `conntrack -L` (the same without the
 * leading family columns); undefined for protocols without ports (ICMP) and anything unreadable.
 */
export function parseConntrackLine(line: string): Flow | undefined {
  const f = line.trim().split(/\s+/);
  let i = f[0] === 'ipv4' || f[0] === 'ipv6' ? 2 : 0;
  const proto = f[i];
  if (!PROTOS.has(proto)) return undefined;
  i += 3; // name, number, timeout
  const state = f[i] && !f[i].includes('=') ? f[i++] : '';
  const tuples: Partial<Tuple>[] = [];
  let bytes: number | undefined;
  for (; i < f.length; i++) {
    const eq = f[i].indexOf('=');
    if (eq < 0) continue;
    const k = f[i].slice(0, eq);
    const v = f[i].slice(eq + 1);
    if (k === 'src') tuples.push({ src: v });
    const t = tuples[tuples.length - 1];
    if (!t) continue;
    if (k === 'dst') t.dst = v;
    else if (k === 'sport') t.sport = Number(v);
    else if (k === 'dport') t.dport = Number(v);
    else if (k === 'bytes') bytes = (bytes ?? 0) + Number(v);
  }
  const [o, r] = tuples;
  const ok = (t?: Partial<Tuple>): t is Tuple => !!t && !!t.src && !!t.dst && Number.isFinite(t.sport) && Number.isFinite(t.dport);
  if (!ok(o) || !ok(r)) return undefined;
  return { proto: proto as Flow['proto'], state, orig: o, reply: r, ...(bytes !== undefined ? { bytes } : {}) };
}

export function parseConntrack(text: string): Flow[] {
  const out: Flow[] = [];
  for (const line of text.split('\n')) {
    const f = line ? parseConntrackLine(line) : undefined;
    if (f) out.push(f);
  }
  return out;
}

/** The host's table (the agent's network namespace: where the service proxy's DNAT happens). */
export async function readConntrack(file = '/proc/net/nf_conntrack'): Promise<Flow[]> {
  return parseConntrack(await readFile(file, 'utf8'));
}
