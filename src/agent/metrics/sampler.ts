/**
 * The agent's resource sampler (the kubelet's cAdvisor housekeeping, in small): every ~10 s it reads
 * the node, each pod's cgroup and network namespace, and each container's cgroup and log files, turns
 * cumulative CPU into a rate against the previous sample, and keeps a short history per pod and for
 * the node (15 min by default) for charts. Readers take `latest()` and `history()`; nothing is written
 * anywhere.
 *
 *   pods() (the worker table) ─┐
 *   cgroups (v1 | v2) ─────────┼─▶ sampleOnce() ─▶ Snapshot (latest) ─▶ /stats/summary, /metrics/resource, /metrics/cadvisor
 *   /proc/<pid>/net/dev, statfs┘                 └▶ history rings     ─▶ /stats/history
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupLayout } from '../runtime/cgroups/index.ts';
import { cgroupFiles, firstPid, statsOf, type CgroupFiles, type CgroupStats } from './cgroup-stats.ts';
import { HistoryRing } from './history-ring.ts';
import { KeptFiles } from './kept-files.ts';
import { threadCpuMs } from './thread-cpu.ts';
import { fsStatsOf, netStatsOfPid, nodeCpuNs, nodeMemory, type FsStats, type InterfaceStats, type NodeMemory } from './host-stats.ts';

/** A container as the sampler needs to know it (from the pod worker's instance). */
export interface ContainerRef {
  name: string;
  /** The driver's container id: its cgroup is `<pod cgroup>/<id>`; absent before the first start. */
  id?: string;
  image: string;
  running: boolean;
  /** The driver's name (process, runc), for cAdvisor's `id` label. */
  runtime?: string;
}

export interface PodRef {
  uid: string;
  namespace: string;
  name: string;
  /** The pod's cgroup, relative to the hierarchy roots (`berth/pod-<uid>`). */
  cgroupPath: string;
  /** Host-network pods share the node's counters: none of their own. */
  hostNetwork: boolean;
  containers: ContainerRef[];
}

export interface NetworkStats {
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  interfaces: InterfaceStats[];
}

export interface ContainerSample extends CgroupStats {
  name: string;
  id: string;
  image: string;
  runtime?: string;
  /** CPU rate over the last interval; undefined on a container's first sample. */
  usageNanoCores?: number;
  /** Bytes of the container's log files (what it writes to the node's file system for sure). */
  logsBytes: number;
}

export interface PodSample extends CgroupStats {
  uid: string;
  namespace: string;
  name: string;
  usageNanoCores?: number;
  network?: NetworkStats;
  containers: ContainerSample[];
}

export interface NodeSample {
  cpuUsageNs: number;
  usageNanoCores?: number;
  memory: NodeMemory;
  network: NetworkStats;
  fs?: FsStats;
}

export interface Snapshot {
  /** When it was taken (ms since the epoch). */
  time: number;
  /** The sampling window the rates are over (ms). */
  windowMs: number;
  node: NodeSample;
  pods: PodSample[];
}

/** One point of a chart. */
export interface HistoryPoint {
  t: number;
  cpuNanoCores?: number;
  memoryWorkingSetBytes: number;
  rxBytes?: number;
  txBytes?: number;
}

export interface SamplerOptions {
  layout: CgroupLayout;
  /** The agent's data dir: pod logs below `pods/<uid>`, and the node file system. */
  dataDir: string;
  pods: () => PodRef[];
  intervalMs?: number;
  historyMs?: number;
  now?: () => number;
  procRoot?: string;
  onError?: (err: Error) => void;
}

function sumNet(ifaces: InterfaceStats[]): NetworkStats {
  const s = { rxBytes: 0, txBytes: 0, rxErrors: 0, txErrors: 0, interfaces: ifaces };
  for (const i of ifaces) { s.rxBytes += i.rxBytes; s.txBytes += i.txBytes; s.rxErrors += i.rxErrors; s.txErrors += i.txErrors; }
  return s;
}

function rate(nowNs: number, beforeNs: number | undefined, dtMs: number): number | undefined {
  if (beforeNs === undefined || dtMs <= 0 || nowNs < beforeNs) return undefined;
  return Math.round(((nowNs - beforeNs) * 1000) / dtMs);
}

/** The files directly in `dir` (a container's logs: `<restartCount>.log`). */
function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(dir, e.name));
  } catch { return []; /* no logs yet */ }
}

/** Sum of the sizes of `files` (one gone meanwhile counts 0). */
function filesBytes(files: readonly string[]): number {
  let total = 0;
  for (const f of files) total += statSync(f, { throwIfNoEntry: false })?.size ?? 0;
  return total;
}

/** Samples between two listings of a container's log directory (a new log file comes with a restart, i.e. a new container id). */
const RELIST_EVERY = 6;

export class MetricsSampler {
  private last?: Snapshot;
  private timer?: NodeJS.Timeout;
  /** Cumulative CPU of the previous sample, keyed by cgroup path ('' is the node). */
  private prevCpu = new Map<string, { ns: number; t: number }>();
  private readonly podHistory = new Map<string, HistoryRing>();
  /** A running container's log files, by its log directory: listed again when its id changes, when none were there, or every RELIST_EVERY samples. */
  private readonly logFiles = new Map<string, { id: string; files: string[]; listed: number }>();
  private samples = 0;
  /** The cgroup files read every sample, through descriptors kept open. */
  private readonly files = new KeptFiles();
  private readonly read = (path: string) => this.files.bytes(path);
  /** Each cgroup's file paths (and a container's log directory), joined once: keyed by the cgroup's relative path, dropped with prevCpu's keys. */
  private readonly paths = new Map<string, { files: CgroupFiles; logDir?: string }>();
  /** The event loop's CPU time spent in the timer's samples (ms), and their count. */
  private costMs = 0;
  private timed = 0;
  private readonly nodeHistory: HistoryRing;
  private readonly intervalMs: number;
  private readonly historyMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: SamplerOptions) {
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.historyMs = opts.historyMs ?? 15 * 60_000;
    this.now = opts.now ?? Date.now;
    this.nodeHistory = new HistoryRing(this.ringCapacity());
  }

  /** Points a history holds at the sampling interval, and one more. */
  private ringCapacity(): number {
    return Math.ceil(this.historyMs / this.intervalMs) + 1;
  }

  /** Samples at once, then every interval (unref'd: it never keeps the process alive). */
  start(): void {
    const tick = () => {
      const t0 = threadCpuMs();
      try { this.sampleOnce(); } catch (err) { this.opts.onError?.(err as Error); }
      this.costMs += threadCpuMs() - t0;
      this.timed++;
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.files.close();
  }

  /** What the periodic samples cost so far: their count and the event loop's CPU seconds in them (the agent's /metrics). */
  cost(): { samples: number; cpuSeconds: number } {
    return { samples: this.timed, cpuSeconds: this.costMs / 1000 };
  }

  latest(): Snapshot | undefined {
    return this.last;
  }

  /** The node's points, or a pod's (`namespace/name`), oldest first. */
  history(podKey?: string): HistoryPoint[] {
    return podKey ? (this.podHistory.get(podKey)?.points() ?? []) : this.nodeHistory.points();
  }

  /** Every pod with a history. */
  historyKeys(): string[] {
    return [...this.podHistory.keys()];
  }

  sampleOnce(): Snapshot {
    const time = this.now();
    const { layout, procRoot } = this.opts;
    const seen = new Set<string>();
    const withRate = <T extends { cpuUsageNs: number }>(key: string, s: T): T & { usageNanoCores?: number } => {
      seen.add(key);
      const prev = this.prevCpu.get(key);
      const usageNanoCores = prev ? rate(s.cpuUsageNs, prev.ns, time - prev.t) : undefined;
      // Updated in place: a new object per cgroup each sample lives 10 s, so it is promoted, and old-generation garbage brings full collections.
      if (prev) { prev.ns = s.cpuUsageNs; prev.t = time; } else this.prevCpu.set(key, { ns: s.cpuUsageNs, t: time });
      return { ...s, usageNanoCores };
    };
    const node = withRate('', {
      cpuUsageNs: nodeCpuNs(procRoot),
      memory: nodeMemory(procRoot),
      network: sumNet((netStatsOfPid('self', procRoot) ?? []).filter((i) => !i.name.startsWith('veth'))),
      fs: fsStatsOf(this.opts.dataDir),
    });
    const pods: PodSample[] = [];
    const pathsOf = (rel: string) => {
      let p = this.paths.get(rel);
      if (!p) this.paths.set(rel, (p = { files: cgroupFiles(layout, rel) }));
      return p;
    };
    for (const ref of this.opts.pods()) {
      const podStats = statsOf(pathsOf(ref.cgroupPath).files, this.read);
      if (!podStats) continue;
      const containers: ContainerSample[] = [];
      let pid: number | undefined;
      for (const c of ref.containers) {
        if (!c.id || !c.running) continue;
        const path = `${ref.cgroupPath}/${c.id}`;
        const p = pathsOf(path);
        const stats = statsOf(p.files, this.read);
        if (!stats) continue;
        pid ??= firstPid(p.files, this.read);
        containers.push({
          ...withRate(path, stats), name: c.name, id: c.id, image: c.image, runtime: c.runtime,
          logsBytes: filesBytes(this.logFilesOf((p.logDir ??= join(this.opts.dataDir, 'pods', ref.uid, c.name)), c.id)),
        });
      }
      const ifaces = !ref.hostNetwork && pid !== undefined ? netStatsOfPid(pid, procRoot) : undefined;
      pods.push({
        ...withRate(ref.cgroupPath, podStats), uid: ref.uid, namespace: ref.namespace, name: ref.name,
        network: ifaces ? sumNet(ifaces) : undefined, containers,
      });
    }
    for (const key of this.prevCpu.keys()) if (!seen.has(key)) this.prevCpu.delete(key);
    for (const key of this.paths.keys()) if (!seen.has(key)) this.paths.delete(key);
    for (const [dir, l] of this.logFiles) if (l.listed < this.samples - RELIST_EVERY) this.logFiles.delete(dir);
    this.files.sweep();
    this.samples++;
    const windowMs = this.last ? time - this.last.time : 0;
    this.last = { time, windowMs, node, pods };
    this.record(time, node, pods);
    return this.last;
  }

  private logFilesOf(dir: string, id: string): string[] {
    let l = this.logFiles.get(dir);
    if (!l || l.id !== id || l.files.length === 0 || this.samples - l.listed >= RELIST_EVERY) {
      l = { id, files: filesIn(dir), listed: this.samples };
      this.logFiles.set(dir, l);
    }
    return l.files;
  }

  private record(t: number, node: NodeSample, pods: PodSample[]): void {
    const cutoff = t - this.historyMs;
    this.nodeHistory.push({ t, cpuNanoCores: node.usageNanoCores, memoryWorkingSetBytes: node.memory.workingSetBytes, rxBytes: node.network.rxBytes, txBytes: node.network.txBytes }, cutoff);
    for (const p of pods) {
      const key = `${p.namespace}/${p.name}`;
      let ring = this.podHistory.get(key);
      if (!ring) this.podHistory.set(key, (ring = new HistoryRing(this.ringCapacity())));
      ring.push({ t, cpuNanoCores: p.usageNanoCores, memoryWorkingSetBytes: p.memoryWorkingSetBytes, rxBytes: p.network?.rxBytes, txBytes: p.network?.txBytes }, cutoff);
    }
    // A pod that left keeps its history until it ages out (a chart of a deleted pod still loads).
    for (const [key, ring] of this.podHistory) {
      if (ring.lastT < t) ring.prune(cutoff);
      if (ring.length === 0) this.podHistory.delete(key);
    }
  }
}
