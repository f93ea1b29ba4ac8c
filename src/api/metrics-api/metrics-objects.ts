/**
 * NodeMetrics and PodMetrics (metrics.k8s.io/v1beta1, k8s.io/metrics/pkg/apis/metrics) from agents'
 * summaries, as metrics-server builds them: CPU as nanocores (`123456n`), memory as the working set
 * in Ki, the sample's time and window, the object's labels copied, and an object left out when it
 * has no figures yet (a node that did not answer, a pod whose containers were not sampled twice).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Summary } from './node-summaries.ts';

export const METRICS_API_VERSION = 'metrics.k8s.io/v1beta1';

/** The agents' sampling interval: the window a CPU rate is over. */
export const WINDOW = '10s';

const cpuQuantity = (nanoCores: number) => `${Math.max(0, Math.round(nanoCores))}n`;
const memQuantity = (bytes: number) => `${Math.max(0, Math.round(bytes / 1024))}Ki`;

function meta(obj: KubeObject, now: string): KubeObject['metadata'] {
  const m: KubeObject['metadata'] = { name: obj.metadata.name, creationTimestamp: now };
  if (obj.metadata.namespace) m.namespace = obj.metadata.namespace;
  if (obj.metadata.labels) m.labels = obj.metadata.labels;
  return m;
}

export function nodeMetrics(node: KubeObject, summary: Summary | undefined, now: string): KubeObject | undefined {
  const cpu = summary?.node.cpu;
  const mem = summary?.node.memory;
  if (cpu?.usageNanoCores === undefined || mem?.workingSetBytes === undefined) return undefined;
  return {
    kind: 'NodeMetrics', apiVersion: METRICS_API_VERSION, metadata: meta(node, now),
    timestamp: cpu.time, window: WINDOW,
    usage: { cpu: cpuQuantity(cpu.usageNanoCores), memory: memQuantity(mem.workingSetBytes) },
  };
}

export function podMetrics(pod: KubeObject, stats: Summary['pods'][number] | undefined, now: string): KubeObject | undefined {
  if (!stats) return undefined;
  const containers = [];
  for (const c of stats.containers) {
    // A container without a rate yet (first sample) makes the whole pod "not available yet", as
    // metrics-server does: a partial sum would rank it wrong.
    if (c.cpu?.usageNanoCores === undefined || c.memory?.workingSetBytes === undefined) return undefined;
    containers.push({ name: c.name, usage: { cpu: cpuQuantity(c.cpu.usageNanoCores), memory: memQuantity(c.memory.workingSetBytes) } });
  }
  if (!containers.length) return undefined;
  return {
    kind: 'PodMetrics', apiVersion: METRICS_API_VERSION, metadata: meta(pod, now),
    timestamp: stats.cpu?.time ?? stats.containers[0].cpu!.time, window: WINDOW, containers,
  };
}
