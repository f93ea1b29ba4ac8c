/**
 * The kubelet's Summary API (/stats/summary, pkg/kubelet/apis/stats/v1alpha1/types.go) from the
 * sampler's latest snapshot: node and pod CPU (usageNanoCores over the last sampling window,
 * usageCoreNanoSeconds), memory, network, file system. The API server's metrics.k8s.io reads it, and
 * so may anyone allowed nodes/stats. `/stats/history` (Berth's own) gives the sampler's history for
 * charts.
 */
import type { HistoryPoint, NodeSample, Snapshot } from './sampler.ts';
import type { CgroupStats } from './cgroup-stats.ts';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function cpu(time: string, s: { cpuUsageNs: number; usageNanoCores?: number }) {
  return { time, usageCoreNanoSeconds: s.cpuUsageNs, ...(s.usageNanoCores !== undefined ? { usageNanoCores: s.usageNanoCores } : {}) };
}

function memory(time: string, s: CgroupStats) {
  return {
    time, usageBytes: s.memoryUsageBytes, workingSetBytes: s.memoryWorkingSetBytes, rssBytes: s.memoryRssBytes,
    pageFaults: s.pageFaults, majorPageFaults: s.majorPageFaults,
  };
}

function network(time: string, n: NodeSample['network'] | undefined) {
  if (!n) return undefined;
  const interfaces = n.interfaces.map((i) => ({ name: i.name, rxBytes: i.rxBytes, rxErrors: i.rxErrors, txBytes: i.txBytes, txErrors: i.txErrors }));
  return { time, ...(interfaces[0] ?? {}), interfaces };
}

/** The Summary object; `nodeName` and `startTime` (the agent's) are the node's. */
export function statsSummary(snap: Snapshot | undefined, nodeName: string, startTime: number): object {
  if (!snap) return { node: { nodeName, startTime: iso(startTime) }, pods: [] };
  const time = iso(snap.time);
  const n = snap.node;
  const fs = n.fs && { time, availableBytes: n.fs.availableBytes, capacityBytes: n.fs.capacityBytes, usedBytes: n.fs.usedBytes, inodesFree: n.fs.inodesFree, inodes: n.fs.inodes, inodesUsed: n.fs.inodes - n.fs.inodesFree };
  return {
    node: {
      nodeName, startTime: iso(startTime),
      cpu: cpu(time, n),
      memory: { time, availableBytes: n.memory.availableBytes, usageBytes: n.memory.usageBytes, workingSetBytes: n.memory.workingSetBytes },
      network: network(time, n.network),
      fs,
    },
    pods: snap.pods.map((p) => ({
      podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
      containers: p.containers.map((c) => ({
        name: c.name, cpu: cpu(time, c), memory: memory(time, c),
        logs: { time, usedBytes: c.logsBytes, ...(fs ? { availableBytes: fs.availableBytes, capacityBytes: fs.capacityBytes } : {}) },
      })),
      cpu: cpu(time, p),
      memory: memory(time, p),
      network: network(time, p.network),
      'ephemeral-storage': { time, usedBytes: p.containers.reduce((s, c) => s + c.logsBytes, 0) },
    })),
  };
}

/** `/stats/history[?namespace=N&pod=P]`: the node's points, or one pod's, or every pod's (a namespace's). */
export function statsHistory(
  source: { history(podKey?: string): HistoryPoint[]; historyKeys(): string[] },
  query: URLSearchParams,
): object {
  const ns = query.get('namespace');
  const pod = query.get('pod');
  if (ns && pod) return { pods: { [`${ns}/${pod}`]: source.history(`${ns}/${pod}`) } };
  const pods: Record<string, HistoryPoint[]> = {};
  for (const key of source.historyKeys()) if (!ns || key.startsWith(`${ns}/`)) pods[key] = source.history(key);
  return { node: source.history(), pods };
}
