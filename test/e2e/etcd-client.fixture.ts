/**
 * Talking to the stateful-failover suite's etcd members from outside their pods (shared with
 * bench/failover.ts): curl inside a lab node's network namespace, a member's own view of its
 * cluster (etcd's v3 JSON gateway), and a writer that commits a key every few ms through a NodePort
 * and records what was acknowledged.
 */
import { execFile } from 'node:child_process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

/** `curl` run inside a lab node's network namespace (where pod IPs are routed); undefined on failure. */
export function curlIn(netns: string, url: string, body?: string, timeoutS = 2): Promise<string | undefined> {
  const args = [`--net=/run/netns/${netns}`, 'curl', '-sS', '--max-time', String(timeoutS), ...(body !== undefined ? ['-X', 'POST', '-d', body] : []), url];
  return new Promise((resolve) => execFile('nsenter', args, { timeout: (timeoutS + 3) * 1000 }, (err, out) => resolve(err ? undefined : out)));
}

export interface EtcdMemberStatus { memberId: string; clusterId: string; leader: string; revision: number; raftIndex: number; healthy: boolean; members: { id: string; name: string; peerURLs: string[] }[] }

/** A member's own view, asked at its pod IP from inside the lab: who it is, its cluster, health. */
export async function etcdStatus(netns: string, ip: string): Promise<EtcdMemberStatus | undefined> {
  const base = `http://${ip}:2379`;
  const [st, health, list] = await Promise.all([
    curlIn(netns, `${base}/v3/maintenance/status`, '{}'),
    curlIn(netns, `${base}/health`),
    curlIn(netns, `${base}/v3/cluster/member/list`, '{}'),
  ]);
  if (!st) return undefined;
  try {
    const s = JSON.parse(st);
    const l = list ? JSON.parse(list) : { members: [] };
    return {
      memberId: s.header.member_id, clusterId: s.header.cluster_id, leader: s.leader, revision: Number(s.header.revision), raftIndex: Number(s.raftIndex),
      healthy: !!health && JSON.parse(health).health === 'true',
      members: (l.members ?? []).map((m: any) => ({ id: m.ID, name: m.name, peerURLs: m.peerURLs })),
    };
  } catch { return undefined; }
}

/**
 * Commits `<prefix><seq>` every `everyMs` through the etcd NodePort of the lab's nodes (from the
 * machine, as an outside client would), each write bounded by `timeoutMs`; a failed
 * or timed-out write moves to the next node (a new connection, so the NodePort picks an endpoint
 * anew) and the key is not counted. Records every acknowledged key and when.
 */
export class EtcdWriter {
  readonly acked: { key: string; at: number }[] = [];
  failures = 0;
  private stopped = false;
  private loop?: Promise<void>;
  private node = 0;
  private seq = 0;

  constructor(private readonly addresses: () => string[], private readonly nodePort: number, readonly prefix = '/failover/', private readonly everyMs = 10, private readonly timeoutMs = 1000) {}

  start(): void { this.loop = this.run(); }
  async stop(): Promise<void> { this.stopped = true; await this.loop; }

  private async run(): Promise<void> {
    // A write starts every `everyMs` whether or not the last was answered (up to MAX_IN_FLIGHT), as
    // a busy client's would: a put on replicated storage takes longer than 10 ms (an fsync on every member).
    const inFlight = new Set<Promise<void>>();
    let next = Date.now();
    while (!this.stopped) {
      if (inFlight.size < EtcdWriter.MAX_IN_FLIGHT) {
        const p = this.put(`${this.prefix}${String(this.seq++).padStart(8, '0')}`).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      next += this.everyMs;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait); else next = Date.now();
    }
    await Promise.all(inFlight);
  }

  static readonly MAX_IN_FLIGHT = 32;

  private async put(key: string): Promise<void> {
    const node = this.node;
    try {
      const addrs = this.addresses();
      const url = `http://${addrs[node % addrs.length]}:${this.nodePort}/v3/kv/put`;
      const r = await fetch(url, { method: 'POST', body: JSON.stringify({ key: b64(key), value: b64(String(Date.now())) }), signal: AbortSignal.timeout(this.timeoutMs) });
      const body = await r.json() as any;
      if (r.ok && body.header?.revision) { this.acked.push({ key, at: Date.now() }); return; }
    } catch { /* counted below */ }
    this.failures++;
    // Move on to the next node once per failing node, not once per write that failed there.
    if (this.node === node) this.node++;
  }

  /** The longest time without an acknowledged write between `fromMs` and `toMs` (both clip). */
  longestGap(fromMs: number, toMs: number): number {
    let last = fromMs;
    let gap = 0;
    for (const a of this.acked) {
      if (a.at < fromMs) continue;
      if (a.at > toMs) break;
      gap = Math.max(gap, a.at - last);
      last = a.at;
    }
    return Math.max(gap, toMs - last);
  }

  /** Every key under the prefix that a member has (a linearizable read through the NodePort). */
  async keysPresent(): Promise<Set<string>> {
    const end = this.prefix.slice(0, -1) + String.fromCharCode(this.prefix.charCodeAt(this.prefix.length - 1) + 1);
    let lastErr: unknown;
    for (let i = 0; i < 20; i++) {
      const addrs = this.addresses();
      try {
        const r = await fetch(`http://${addrs[i % addrs.length]}:${this.nodePort}/v3/kv/range`, {
          method: 'POST', body: JSON.stringify({ key: b64(this.prefix), range_end: b64(end), keys_only: true }), signal: AbortSignal.timeout(10_000),
        });
        const body = await r.json() as any;
        if (r.ok) return new Set((body.kvs ?? []).map((kv: any) => unb64(kv.key)));
        lastErr = JSON.stringify(body);
      } catch (err) { lastErr = err; }
      await sleep(500);
    }
    throw new Error(`could not read the keys back: ${lastErr}`);
  }
}
