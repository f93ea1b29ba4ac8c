/**
 * Which host-network pod owns which socket: a host-network pod (process or runc) shares the node's
 * network namespace, so conntrack shows its connections under the node's address. Its processes
 * (the pids of its containers' cgroups) hold socket inodes (/proc/<pid>/fd → `socket:[N]`), and the
 * namespace's socket tables (/proc/<pid>/net/tcp{,6}, udp{,6}) map each inode to a local address and
 * port — so a conntrack flow from that address:port is the pod's (client side), and one answered from
 * a port the pod listens on is to the pod (server side). Weave Scope's procspy walks /proc the same way.
 *
 * Short-lived client connections are closed before the next sample and have no owner left to find
 * (a TIME_WAIT socket belongs to no process); a listening socket lives as long as the server, so the
 * server side of a host-network pod is attributed whatever the connections' lifetime.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';

export interface PodOwner {
  namespace: string;
  name: string;
}

/** A host-network pod on this node with the pids of its running containers. */
export interface HostNetworkPod extends PodOwner {
  pids: number[];
}

export interface SocketEntry {
  proto: 'tcp' | 'udp';
  local: { ip: string; port: number };
  remote: { ip: string; port: number };
  /** TCP state (LISTEN, ESTABLISHED …); UDP: LISTEN for an unconnected bound socket, ESTABLISHED when connected. */
  state: string;
  inode: number;
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

/** An address as written in /proc/net/*: IPv4 as one host-order (little-endian here) word, IPv6 as four. */
function procAddress(hex: string): string {
  const word = (h: string) => [6, 4, 2, 0].map((i) => parseInt(h.slice(i, i + 2), 16));
  if (hex.length === 8) return word(hex).join('.');
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...word(hex.slice(i, i + 8)));
  // An IPv4 client of a dual-stack socket (::ffff:a.b.c.d): conntrack lists it as IPv4.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return canonicalIp(groups.join(':'));
}

/** One spelling per address (conntrack's /proc file writes IPv6 in full, `conntrack -L` compressed). */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try { return new URL(`http://[${ip}]/`).hostname.slice(1, -1); } catch { return ip; }
}

/** The lines of /proc/<pid>/net/{tcp,tcp6,udp,udp6}. */
export function parseSocketTable(text: string, proto: 'tcp' | 'udp'): SocketEntry[] {
  const out: SocketEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0])) continue;
    const [la, lp] = f[1].split(':');
    const [ra, rp] = f[2].split(':');
    const inode = Number(f[9]);
    if (!la || !lp || !ra || !rp || !Number.isFinite(inode)) continue;
    let state = TCP_STATES[f[3].toUpperCase()] ?? f[3];
    // UDP has no states: a bound socket with no peer is a server's.
    if (proto === 'udp') state = state === 'CLOSE' ? 'LISTEN' : 'ESTABLISHED';
    out.push({ proto, local: { ip: procAddress(la), port: parseInt(lp, 16) }, remote: { ip: procAddress(ra), port: parseInt(rp, 16) }, state, inode });
  }
  return out;
}

const WILDCARD = new Set(['0.0.0.0', '::']);

/** The owners of this network namespace's sockets, by local endpoint. */
export class SocketOwners {
  /** `proto ip:port` of listening sockets (ip may be a wildcard). */
  private readonly listening = new Map<string, PodOwner>();
  /** `proto ip:port` of connected sockets' local ends. */
  private readonly connected = new Map<string, PodOwner>();

  constructor(entries: Iterable<{ entry: SocketEntry; owner: PodOwner }> = [], private readonly localIps: ReadonlySet<string> = new Set()) {
    for (const { entry: e, owner } of entries) {
      const key = `${e.proto} ${e.local.ip}:${e.local.port}`;
      (e.state === 'LISTEN' ? this.listening : this.connected).set(key, owner);
    }
  }

  get size(): number {
    return this.listening.size + this.connected.size;
  }

  /** The pod whose socket is this connection's local end (the client of an outgoing connection). */
  client(proto: string, ip: string, port: number): PodOwner | undefined {
    return this.connected.get(`${proto} ${canonicalIp(ip)}:${port}`);
  }

  /** The pod listening where a connection was answered from: that address, or any local one. */
  server(proto: string, ip: string, port: number): PodOwner | undefined {
    const c = canonicalIp(ip);
    const exact = this.listening.get(`${proto} ${c}:${port}`);
    if (exact || !this.localIps.has(c)) return exact;
    return this.listening.get(`${proto} ${c.includes(':') ? '::' : '0.0.0.0'}:${port}`) ?? this.listening.get(`${proto} :::${port}`);
  }
}

/** This network namespace's addresses (where a wildcard listener answers). */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(canonicalIp(a.address));
  return out;
}

/**
 * Socket inodes a process holds open. Synchronous on purpose: a few hundred readlinks cost a tenth
 * of the CPU as promises do (measured: 100 pods' processes, bench `metrics`), and the process gone
 * meanwhile is simply skipped.
 */
function socketInodes(pid: number, procRoot: string): number[] {
  const dir = join(procRoot, String(pid), 'fd');
  let fds: string[];
  try { fds = readdirSync(dir); } catch { return []; }
  const out: number[] = [];
  for (const fd of fds) {
    let target: string;
    try { target = readlinkSync(join(dir, fd)); } catch { continue; }
    if (target.startsWith('socket:[')) out.push(Number(target.slice(8, -1)));
  }
  return out;
}

export interface ReadOwnersOptions {
  /** Default /proc. */
  procRoot?: string;
  /** Default: this process's interfaces' addresses. */
  localIps?: ReadonlySet<string>;
  /**
   * Walk the pods' file descriptors again every this many reads (default 5: every 10 s at the
   * agent's 2 s), or at once when the pods or their pids change; the reads between only re-read the
   * socket tables. A socket never changes owner, so what is cached stays true; a connection opened
   * since the last walk is named at the next one.
   */
  rescanEvery?: number;
}

/**
 * Reads the owners of host-network pods' sockets from /proc: each pod's inodes (cached, see
 * rescanEvery), then the namespace's tables (read through one of the pids: every host-network pod
 * shares the namespace).
 */
export class SocketOwnerReader {
  private byInode = new Map<number, PodOwner>();
  /** The namespace's addresses, taken again with the descriptors: getifaddrs over a node's hundred pod veths is not cheap every 2 s. */
  private localIps: ReadonlySet<string> = new Set();
  private tablePid: number | undefined;
  private podsKey = '';
  private reads = 0;

  constructor(private readonly opts: ReadOwnersOptions = {}) {}

  read(pods: readonly HostNetworkPod[]): SocketOwners {
    const procRoot = this.opts.procRoot ?? '/proc';
    const key = pods.map((p) => `${p.namespace}/${p.name}:${p.pids.join(',')}`).join(';');
    if (key !== this.podsKey || this.reads % (this.opts.rescanEvery ?? 5) === 0) {
      this.podsKey = key;
      this.byInode = new Map();
      this.localIps = this.opts.localIps ?? localAddresses();
      this.tablePid = undefined;
      for (const p of pods) {
        for (const pid of p.pids) {
          const inodes = socketInodes(pid, procRoot);
          if (inodes.length) this.tablePid ??= pid;
          for (const i of inodes) this.byInode.set(i, { namespace: p.namespace, name: p.name });
        }
      }
    }
    this.reads++;
    if (this.tablePid === undefined) return new SocketOwners();
    const entries: { entry: SocketEntry; owner: PodOwner }[] = [];
    for (const [file, proto] of [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']] as const) {
      let text = '';
      try { text = readFileSync(join(procRoot, String(this.tablePid), 'net', file), 'utf8'); } catch { /* no IPv6, or the process ended */ }
      for (const entry of parseSocketTable(text, proto)) {
        const owner = entry.inode ? this.byInode.get(entry.inode) : undefined;
        if (owner) entries.push({ entry, owner });
      }
    }
    return new SocketOwners(entries, this.localIps);
  }
}

/** One read, nothing cached. */
export function readSocketOwners(pods: readonly HostNetworkPod[], opts: ReadOwnersOptions = {}): SocketOwners {
  return new SocketOwnerReader(opts).read(pods);
}
