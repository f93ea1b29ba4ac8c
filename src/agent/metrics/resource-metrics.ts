/**
 * The kubelet's resource metrics endpoint (/metrics/resource, pkg/kubelet/metrics/collectors/
 * resource_metrics.go): cumulative CPU and working set of the node, each pod and each container,
 * with the sample's timestamp — what metrics-server scrapes. Read from the sampler's latest snapshot.
 */
import { PromText, type PromSample } from './prom-text.ts';
import type { Snapshot } from './sampler.ts';

export function resourceMetricsText(snap: Snapshot | undefined): string {
  const out = new PromText();
  if (!snap) {
    return out.family('resource_scrape_error', 'gauge', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', [{ value: 1 }]).toString();
  }
  const t = snap.time;
  const c: PromSample[] = [];
  const cm: PromSample[] = [];
  for (const p of snap.pods) {
    for (const k of p.containers) {
      const labels = { container: k.name, namespace: p.namespace, pod: p.name };
      c.push({ labels, value: k.cpuUsageNs / 1e9, timestampMs: t });
      cm.push({ labels, value: k.memoryWorkingSetBytes, timestampMs: t });
    }
  }
  const podLabels = (p: Snapshot['pods'][number]) => ({ namespace: p.namespace, pod: p.name });
  return out
    .family('container_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the container in core-seconds', c)
    .family('container_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the container in bytes', cm)
    .family('node_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the node in core-seconds', [{ value: snap.node.cpuUsageNs / 1e9, timestampMs: t }])
    .family('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes', [{ value: snap.node.memory.workingSetBytes, timestampMs: t }])
    .family('pod_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', snap.pods.map((p) => ({ labels: podLabels(p), value: p.cpuUsageNs / 1e9, timestampMs: t })))
    .family('pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes', snap.pods.map((p) => ({ labels: podLabels(p), value: p.memoryWorkingSetBytes, timestampMs: t })))
    .family('resource_scrape_error', 'gauge', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', [{ value: 0 }])
    .toString();
}
