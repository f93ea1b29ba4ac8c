/**
 * The agent's traffic endpoint (`GET /traffic` on its HTTPS server, authorized as nodes/proxy like
 * the kubelet's other paths; the API server reads it through the node proxy): samples the host's
 * conntrack table every SAMPLE_MS (longer when the table is large: nextSampleDelay) into a TrafficTracker — with the sockets of the node's
 * host-network pods (pod-sockets.ts) to name them — and answers with the edges seen now.
 */
import type { Logger } from '../../util/log.ts';
import { threadCpuMs } from '../metrics/thread-cpu.ts';
import { readConntrack, type FlowVisitor, type TableRead } from './conntrack.ts';
import { SocketOwnerReader, type HostNetworkPod, type SocketOwners } from './pod-sockets.ts';
import { TrafficTracker, type TrafficEdge } from './traffic-tracker.ts';

/** Short enough that a new edge shows within 10 s end to end (sample + the UI's read). */
export const SAMPLE_MS = 2000;
/**
 * A sample may take at most this share of one core: the agent's budget for metrics and tracking is
 * 1 %, and the rest of it is the metrics sampler (0.1–0.2 % at 100 pods), the collections of both
 * parts' garbage and the other threads (~0.2 point together, bench `metrics`, measured by thread).
 * At 0.6 % the whole process paid 1.45 points more on a quiet machine; the cost is the kernel
 * formatting the table (~2 µs an entry: 5,000 entries ≈ 10 ms of a 13 ms sample), so a larger table
 * is read less often…
 */
export const CPU_SHARE = 0.004;
/**
 * …but never less often than this, so an edge still shows within 10 s: the UI reads every 2 s, and a
 * new client takes a moment to connect (at 8 s the UI e2e saw an edge after 8.7 s on a loaded machine
 * whose 7,500-entry table cost ~40 ms a sample). A table that large costs more than the share then.
 */
export const MAX_SAMPLE_MS = 6000;

/**
 * When to sample next after one that took `tookMs` of CPU: every `baseMs`, stretched so sampling
 * stays within CPU_SHARE of a core (cAdvisor stretches its housekeeping the same way), up to
 * MAX_SAMPLE_MS. The cost is the thread's CPU time, which the machine's load does not inflate.
 */
export function nextSampleDelay(tookMs: number, baseMs = SAMPLE_MS): number {
  return Math.round(Math.min(Math.max(baseMs, tookMs / CPU_SHARE), Math.max(baseMs, MAX_SAMPLE_MS)));
}

export interface TrafficReport {
  node: string;
  sampledAt: string;
  /** Whether the kernel counts bytes (net.netfilter.nf_conntrack_acct); without it only connection rates. */
  bytes: boolean;
  edges: TrafficEdge[];
}

export interface TrafficSource {
  report(): TrafficReport;
  /** What sampling cost so far: samples taken and the event loop's CPU seconds in them (the agent's /metrics). */
  cost(): { samples: number; cpuSeconds: number };
  stop(): void;
}

export interface TrafficSourceOptions {
  /** Streams the table's flows to the visitor (default /proc/net/nf_conntrack, readConntrack). */
  read?: (visit: FlowVisitor) => Promise<Partial<TableRead>>;
  /** This node's host-network pods with their pids (the agent's pod workers); none by default. */
  hostNetworkPods?: () => HostNetworkPod[];
  /** Who owns their sockets (default: from /proc, pod-sockets.ts). */
  owners?: (pods: HostNetworkPod[]) => SocketOwners | Promise<SocketOwners>;
  /** Default: env BERTH_TRAFFIC_INTERVAL_MS, else SAMPLE_MS; 0 turns tracking off (no edges) — the benchmark compares the two. */
  intervalMs?: number;
}

export function startTrafficSource(node: string, log: Logger, opts: TrafficSourceOptions = {}): TrafficSource {
  const read = opts.read ?? ((visit: FlowVisitor) => readConntrack(visit));
  const reader = new SocketOwnerReader();
  const owners = opts.owners ?? ((pods) => reader.read(pods));
  const fromEnv = process.env.BERTH_TRAFFIC_INTERVAL_MS;
  const intervalMs = opts.intervalMs ?? (fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : SAMPLE_MS);
  const tracker = new TrafficTracker();
  const add: FlowVisitor = (f) => tracker.add(f);
  let sampledAt = new Date(0);
  let bytes = false;
  let warned = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let samples = 0;
  let spentMs = 0;
  const sample = async () => {
    const t0 = performance.now();
    const c0 = threadCpuMs();
    // The sample's own CPU time: the table's reads and parsing without the event loop's turns between them.
    let costMs: number | undefined;
    try {
      const hostPods = opts.hostNetworkPods?.() ?? [];
      const o = hostPods.length ? await owners(hostPods) : undefined;
      const c1 = threadCpuMs();
      tracker.begin(Date.now(), o);
      const r = await read(add);
      const c2 = threadCpuMs();
      tracker.end();
      bytes = r.bytes ?? false;
      const inRead = r.cpuMs ?? r.busyMs;
      if (inRead !== undefined) costMs = (c1 - c0) + inRead + (threadCpuMs() - c2);
      sampledAt = new Date();
    } catch (err) {
      // No conntrack module loaded yet (no NAT rule on this host) is normal: no edges.
      if (!warned) log.info('traffic: conntrack table not readable', { error: String(err) });
      warned = true;
    } finally {
      samples++;
      spentMs += costMs ?? threadCpuMs() - c0;
      if (!stopped) {
        timer = setTimeout(() => void sample(), nextSampleDelay(costMs ?? performance.now() - t0, intervalMs));
        timer.unref();
      }
    }
  };
  const cost = () => ({ samples, cpuSeconds: spentMs / 1000 });
  if (!intervalMs) return { report: () => ({ node, sampledAt: sampledAt.toISOString(), bytes, edges: [] }), cost, stop: () => {} };
  void sample();
  return {
    report: () => ({ node, sampledAt: sampledAt.toISOString(), bytes, edges: tracker.edgesNow() }),
    cost,
    stop: () => { stopped = true; clearTimeout(timer); },
  };
}
