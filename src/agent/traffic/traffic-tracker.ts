/**
 * Who talks to whom on this node, from successive conntrack samples (Weave Scope's connection
 * tracking, reduced to edges): each edge is client → (Service address, when the reply came from
 * somewhere else: a DNAT) → server, with the connections open now, new connections per second and
 * bytes per second (when the kernel counts bytes). An edge is active while it has an established
 * connection or new ones; it is dropped FADE_MS after its last activity — closed connections
 * (TIME_WAIT lingers two minutes in the table) are not activity.
 *
 * Host-network pods share the node's address: with the owners of their sockets (pod-sockets.ts) an
 * edge names the pod at either end (clientPod, serverPod); a connection from a pod to itself is no edge.
 */
import type { Flow } from './conntrack.ts';
import type { PodOwner, SocketOwners } from './pod-sockets.ts';

/** One edge as the agent reports it (GET /traffic). */
export interface TrafficEdge {
  proto: string;
  client: string;
  /** `ip:port` the client dialled when a DNAT sent it elsewhere (a Service); absent for direct traffic. */
  service?: string;
  /** `ip:port` that answered. */
  server: string;
  /** The host-network pod that opened the connection (its address is the node's). */
  clientPod?: PodOwner;
  /** The host-network pod that answered (listens on the server's port). */
  serverPod?: PodOwner;
  /** Connections in the table now that are established (or, for UDP, live). */
  open: number;
  /** New connections per second over the last RATE_WINDOW_MS. */
  connectionsPerSecond: number;
  /** Bytes per second both ways over the last sample, when accounting is on. */
  bytesPerSecond?: number;
  /** Epoch ms of the last activity. */
  lastActive: number;
}

export const FADE_MS = 30_000;
export const RATE_WINDOW_MS = 10_000;

/** 127.0.0.0/8 and ::1, also as the /proc file writes it in full. */
const LOOPBACK = /^(127\.|::1$|(0000:){7}0001$)/;
const flowKey = (f: Flow) => `${f.proto} ${f.orig.src}:${f.orig.sport} ${f.orig.dst}:${f.orig.dport}`;
const ACTIVE_STATES = new Set(['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV']);
const podKey = (p?: PodOwner) => (p ? `${p.namespace}/${p.name}` : '');

interface EdgeState {
  edge: TrafficEdge;
  /** Times (ms) new connections were first seen, within the rate window. */
  starts: number[];
  bytes?: number;
  /** This sample's figures (reset by begin). */
  open: number;
  sampleBytes: number;
  counted: boolean;
  touched: boolean;
}

/** A connection across samples: its edge is looked up once, not rebuilt as a key every sample (that key, ~700 B of strings a flow a sample, was most of tracking's garbage). */
interface FlowState {
  edgeKey?: string;
  edge?: EdgeState;
  /** The last sample (number) that listed it. */
  sample: number;
}

/**
 * Samples a flow may be missing from and still be the same connection when listed again. Reading
 * /proc/net/nf_conntrack is not a snapshot: each read() restarts the kernel's walk at an entry
 * count, so entries created or deleted meanwhile shift it and another entry is skipped (or listed
 * twice). A TIME_WAIT flow skipped once and listed again looked new — activity — and kept a gone
 * client's edge alive for up to its two minutes in the table. A 4-tuple is not reused that soon
 * (the client's own TIME_WAIT holds it), so a flow seen within this many samples is not new.
 */
export const ABSENT_SAMPLES = 3;

export class TrafficTracker {
  /** Flows listed in the last ABSENT_SAMPLES samples, by key; a flow's state object is carried over. */
  private readonly seen = new Map<string, FlowState>();
  private sample = 0;
  private readonly edges = new Map<string, EdgeState>();
  private lastSample = -1;
  private first = true;
  private now = 0;
  private owners?: SocketOwners;

  /** Feeds one sample of the table taken at `now`; `owners` names host-network pods' ends. */
  observe(flows: Iterable<Flow>, now = Date.now(), owners?: SocketOwners): void {
    this.begin(now, owners);
    for (const f of flows) this.add(f);
    this.end();
  }

  /** Starts a sample taken at `now`: add() each of its flows, then end(). */
  begin(now = Date.now(), owners?: SocketOwners): void {
    this.now = now;
    this.owners = owners;
    this.sample++;
    for (const st of this.edges.values()) { st.open = 0; st.sampleBytes = 0; st.counted = false; st.touched = false; }
  }

  /** One flow of the sample (the object may be reused by the caller afterwards: nothing of it is kept but strings). */
  add(f: Flow): void {
    if (LOOPBACK.test(f.orig.src) || LOOPBACK.test(f.orig.dst)) return;
    const now = this.now;
    const owners = this.owners;
    const k = f.key ?? flowKey(f);
    const prev = this.seen.get(k);
    // Listed twice by one read (the walk shifted back): counted once.
    if (prev?.sample === this.sample) return;
    const isNew = prev === undefined;
    const flow: FlowState = prev ?? { sample: 0 };
    flow.sample = this.sample;
    if (isNew) this.seen.set(k, flow);
    const active = ACTIVE_STATES.has(f.state);
    // A known flow keeps its edge while the edge lives — unless host-network pods are named this
    // sample: an owner may have appeared since (a socket seen at the next walk of descriptors).
    let st = !owners && flow.edge && flow.edgeKey !== undefined && this.edges.get(flow.edgeKey) === flow.edge ? flow.edge : undefined;
    if (!st) {
      const dnat = f.reply.src !== f.orig.dst || f.reply.sport !== f.orig.dport;
      const clientPod = owners?.client(f.proto, f.orig.src, f.orig.sport);
      const serverPod = owners?.server(f.proto, f.reply.src, f.reply.sport);
      // Inside one pod (a host-network pod calling itself through the node's address): no edge.
      if (clientPod && serverPod && clientPod.namespace === serverPod.namespace && clientPod.name === serverPod.name) return;
      const edgeKey = `${f.proto} ${f.orig.src} ${podKey(clientPod)} ${dnat ? `${f.orig.dst}:${f.orig.dport}` : ''} ${f.reply.src}:${f.reply.sport} ${podKey(serverPod)}`;
      st = this.edges.get(edgeKey);
      if (!st) {
        // Connections already closed when first seen (before the agent started) make no edge.
        if (!active && !isNew) return;
        if (!active && this.first) return;
        st = {
          edge: {
            proto: f.proto, client: f.orig.src, ...(clientPod ? { clientPod } : {}), ...(dnat ? { service: `${f.orig.dst}:${f.orig.dport}` } : {}),
            server: `${f.reply.src}:${f.reply.sport}`, ...(serverPod ? { serverPod } : {}), open: 0, connectionsPerSecond: 0, lastActive: now,
          },
          starts: [], open: 0, sampleBytes: 0, counted: false, touched: false,
        };
        this.edges.set(edgeKey, st);
      }
      // Only an edge found without owners is kept for the flow: with them it is looked up each sample.
      flow.edgeKey = owners ? undefined : edgeKey;
      flow.edge = owners ? undefined : st;
    }
    st.touched = true;
    if (active) st.open++;
    if (f.bytes !== undefined) { st.sampleBytes += f.bytes; st.counted = true; }
    if (isNew && !this.first) st.starts.push(now);
    if (active || (isNew && !this.first)) st.edge.lastActive = now;
  }

  /** Ends the sample: rates, fading. */
  end(): void {
    const now = this.now;
    const dt = this.lastSample >= 0 ? (now - this.lastSample) / 1000 : 0;
    for (const [k, st] of this.edges) {
      while (st.starts.length && now - st.starts[0] > RATE_WINDOW_MS) st.starts.shift();
      st.edge.open = st.touched ? st.open : 0;
      st.edge.connectionsPerSecond = Math.round((st.starts.length / (RATE_WINDOW_MS / 1000)) * 100) / 100;
      if (st.counted) {
        if (st.bytes !== undefined && dt > 0 && st.sampleBytes >= st.bytes) {
          st.edge.bytesPerSecond = Math.round((st.sampleBytes - st.bytes) / dt);
          if (st.sampleBytes > st.bytes) st.edge.lastActive = now;
        }
        st.bytes = st.sampleBytes;
      }
      if (now - st.edge.lastActive > FADE_MS) this.edges.delete(k);
    }
    for (const [k, flow] of this.seen) if (this.sample - flow.sample >= ABSENT_SAMPLES) this.seen.delete(k);
    this.owners = undefined;
    this.lastSample = now;
    this.first = false;
  }

  /** The edges active within FADE_MS. */
  edgesNow(): TrafficEdge[] {
    return [...this.edges.values()].map((s) => ({ ...s.edge }));
  }
}
