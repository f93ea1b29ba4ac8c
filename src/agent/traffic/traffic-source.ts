/**
 * The agent's traffic endpoint (`GET /traffic` on its HTTPS server, authorized as nodes/proxy like
 * the kubelet's other paths; the API server reads it through the node proxy): samples the host's
 * conntrack table every SAMPLE_MS into a TrafficTracker — with the sockets of the node's
 * host-network pods (pod-sockets.ts) to name them — and answers with the edges seen now.
 */
import type { Logger } from '../../util/log.ts';
import { readConntrack, type Flow } from './conntrack.ts';
import { SocketOwnerReader, type HostNetworkPod, type SocketOwners } from './pod-sockets.ts';
import { TrafficTracker, type TrafficEdge } from './traffic-tracker.ts';

/** Short enough that a new edge shows within 10 s end to end (sample + the UI's read). */
export const SAMPLE_MS = 2000;

export interface TrafficReport {
  node: string;
  sampledAt: string;
  /** Whether the kernel counts bytes (net.netfilter.nf_conntrack_acct); without it only connection rates. */
  bytes: boolean;
  edges: TrafficEdge[];
}

export interface TrafficSource {
  report(): TrafficReport;
  stop(): void;
}

export interface TrafficSourceOptions {
  /** The table (default /proc/net/nf_conntrack). */
  read?: () => Promise<Flow[]>;
  /** This node's host-network pods with their pids (the agent's pod workers); none by default. */
  hostNetworkPods?: () => HostNetworkPod[];
  /** Who owns their sockets (default: from /proc, pod-sockets.ts). */
  owners?: (pods: HostNetworkPod[]) => SocketOwners | Promise<SocketOwners>;
  /** Default: env BERTH_TRAFFIC_INTERVAL_MS, else SAMPLE_MS; 0 turns tracking off (no edges) — the benchmark compares the two. */
  intervalMs?: number;
}

export function startTrafficSource(node: string, log: Logger, opts: TrafficSourceOptions = {}): TrafficSource {
  const read = opts.read ?? (() => readConntrack());
  const reader = new SocketOwnerReader();
  const owners = opts.owners ?? ((pods) => reader.read(pods));
  const fromEnv = process.env.BERTH_TRAFFIC_INTERVAL_MS;
  const intervalMs = opts.intervalMs ?? (fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : SAMPLE_MS);
  const tracker = new TrafficTracker();
  let sampledAt = new Date(0);
  let bytes = false;
  let warned = false;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      const flows = await read();
      bytes = flows.some((f) => f.bytes !== undefined);
      const hostPods = opts.hostNetworkPods?.() ?? [];
      tracker.observe(flows, Date.now(), hostPods.length ? await owners(hostPods) : undefined);
      sampledAt = new Date();
    } catch (err) {
      // No conntrack module loaded yet (no NAT rule on this host) is normal: no edges.
      if (!warned) log.info('traffic: conntrack table not readable', { error: String(err) });
      warned = true;
    } finally {
      busy = false;
    }
  };
  if (!intervalMs) return { report: () => ({ node, sampledAt: sampledAt.toISOString(), bytes, edges: [] }), stop: () => {} };
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  return {
    report: () => ({ node, sampledAt: sampledAt.toISOString(), bytes, edges: tracker.edgesNow() }),
    stop: () => clearInterval(timer),
  };
}
