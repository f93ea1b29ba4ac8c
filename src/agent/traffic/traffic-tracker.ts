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

const LOOPBACK = /^(127\.|::1$)/;
const flowKey = (f: Flow) => `${f.proto} ${f.orig.src}:${f.orig.sport} ${f.orig.dst}:${f.orig.dport}`;
const ACTIVE_STATES = new Set(['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV']);

interface EdgeState {
  edge: TrafficEdge;
  /** Times (ms) new connections were first seen, within the rate window. */
  starts: number[];
  bytes?: number;
}

export class TrafficTracker {
  /** Flows of the last sample: key → bytes (or 0). */
  private seen = new Map<string, number>();
  private readonly edges = new Map<string, EdgeState>();
  private lastSample = -1;
  private first = true;

  /** Feeds one sample of the table taken at `now`; `owners` names host-network pods' ends. */
  observe(flows: readonly Flow[], now = Date.now(), owners?: SocketOwners): void {
    const next = new Map<string, number>();
    const touched = new Map<string, { open: number; bytes: number; counted: boolean }>();
    for (const f of flows) {
      if (LOOPBACK.test(f.orig.src) || LOOPBACK.test(f.orig.dst)) continue;
      const k = flowKey(f);
      next.set(k, f.bytes ?? 0);
      const dnat = f.reply.src !== f.orig.dst || f.reply.sport !== f.orig.dport;
      const clientPod = owners?.client(f.proto, f.orig.src, f.orig.sport);
      const serverPod = owners?.server(f.proto, f.reply.src, f.reply.sport);
      // Inside one pod (a host-network pod calling itself through the node's address): no edge.
      if (clientPod && serverPod && clientPod.namespace === serverPod.namespace && clientPod.name === serverPod.name) continue;
      const podKey = (p?: PodOwner) => (p ? `${p.namespace}/${p.name}` : '');
      const edgeKey = `${f.proto} ${f.orig.src} ${podKey(clientPod)} ${dnat ? `${f.orig.dst}:${f.orig.dport}` : ''} ${f.reply.src}:${f.reply.sport} ${podKey(serverPod)}`;
      let st = this.edges.get(edgeKey);
      const isNew = !this.seen.has(k);
      const active = ACTIVE_STATES.has(f.state);
      if (!st) {
        // Connections already closed when first seen (before the agent started) make no edge.
        if (!active && !isNew) continue;
        if (!active && this.first) continue;
        st = {
          edge: {
            proto: f.proto, client: f.orig.src, ...(clientPod ? { clientPod } : {}), ...(dnat ? { service: `${f.orig.dst}:${f.orig.dport}` } : {}),
            server: `${f.reply.src}:${f.reply.sport}`, ...(serverPod ? { serverPod } : {}), open: 0, connectionsPerSecond: 0, lastActive: now,
          },
          starts: [],
        };
        this.edges.set(edgeKey, st);
      }
      const t = touched.get(edgeKey) ?? { open: 0, bytes: 0, counted: false };
      touched.set(edgeKey, t);
      if (active) t.open++;
      if (f.bytes !== undefined) { t.bytes += f.bytes; t.counted = true; }
      if (isNew && !this.first) st.starts.push(now);
      if (active || (isNew && !this.first)) st.edge.lastActive = now;
    }
    const dt = this.lastSample >= 0 ? (now - this.lastSample) / 1000 : 0;
    for (const [k, st] of this.edges) {
      const t = touched.get(k);
      st.starts = st.starts.filter((s) => now - s <= RATE_WINDOW_MS);
      st.edge.open = t?.open ?? 0;
      st.edge.connectionsPerSecond = Math.round((st.starts.length / (RATE_WINDOW_MS / 1000)) * 100) / 100;
      if (t?.counted) {
        if (st.bytes !== undefined && dt > 0 && t.bytes >= st.bytes) {
          st.edge.bytesPerSecond = Math.round((t.bytes - st.bytes) / dt);
          if (t.bytes > st.bytes) st.edge.lastActive = now;
        }
        st.bytes = t.bytes;
      }
      if (now - st.edge.lastActive > FADE_MS) this.edges.delete(k);
    }
    this.seen = next;
    this.lastSample = now;
    this.first = false;
  }

  /** The edges active within FADE_MS. */
  edgesNow(): TrafficEdge[] {
    return [...this.edges.values()].map((s) => ({ ...s.edge }));
  }
}
