/**
 * cAdvisor's Prometheus families as the kubelet serves them at /metrics/cadvisor (cadvisor's
 * metrics/prometheus.go), with the usual labels — container, pod, namespace, image, name, id — so
 * existing dashboards work. Containers have `container=<name>`; the pod's own cgroup row has
 * `container=""` and carries the pod's network counters (cAdvisor counts them on the sandbox).
 */
import { PromText, type PromSample } from './prom-text.ts';
import type { Snapshot } from './sampler.ts';

export interface CadvisorOptions {
  /** Cores and memory of the machine (machine_cpu_cores, machine_memory_bytes). */
  cores: number;
  /** The agent's data dir's device, for container_fs_* (`device` label). */
  device?: string;
}

export function cadvisorText(snap: Snapshot | undefined, opts: CadvisorOptions): string {
  const out = new PromText();
  out.family('machine_cpu_cores', 'gauge', 'Number of logical CPU cores.', [{ value: opts.cores }]);
  if (!snap) return out.toString();
  out.family('machine_memory_bytes', 'gauge', 'Amount of memory installed on the machine.', [{ value: snap.node.memory.capacityBytes }]);
  const t = snap.time;
  const cpu: PromSample[] = [];
  const ws: PromSample[] = [];
  const usage: PromSample[] = [];
  const rss: PromSample[] = [];
  const faults: PromSample[] = [];
  const fs: PromSample[] = [];
  const rx: PromSample[] = [];
  const tx: PromSample[] = [];
  const rxErr: PromSample[] = [];
  const txErr: PromSample[] = [];
  // The whole node is cAdvisor's root container, id="/".
  const root = { container: '', id: '/', image: '', name: '', namespace: '', pod: '' };
  cpu.push({ labels: { ...root, cpu: 'total' }, value: snap.node.cpuUsageNs / 1e9, timestampMs: t });
  ws.push({ labels: root, value: snap.node.memory.workingSetBytes, timestampMs: t });
  usage.push({ labels: root, value: snap.node.memory.usageBytes, timestampMs: t });
  for (const p of snap.pods) {
    const podId = `/berth/pod-${p.uid}`;
    const podLabels = { container: '', id: podId, image: '', name: '', namespace: p.namespace, pod: p.name };
    cpu.push({ labels: { ...podLabels, cpu: 'total' }, value: p.cpuUsageNs / 1e9, timestampMs: t });
    ws.push({ labels: podLabels, value: p.memoryWorkingSetBytes, timestampMs: t });
    usage.push({ labels: podLabels, value: p.memoryUsageBytes, timestampMs: t });
    rss.push({ labels: podLabels, value: p.memoryRssBytes, timestampMs: t });
    for (const i of p.network?.interfaces ?? []) {
      const l = { ...podLabels, interface: i.name };
      rx.push({ labels: l, value: i.rxBytes, timestampMs: t });
      tx.push({ labels: l, value: i.txBytes, timestampMs: t });
      rxErr.push({ labels: l, value: i.rxErrors, timestampMs: t });
      txErr.push({ labels: l, value: i.txErrors, timestampMs: t });
    }
    for (const c of p.containers) {
      const labels = { container: c.name, id: `${podId}/${c.id}`, image: c.image, name: c.id, namespace: p.namespace, pod: p.name };
      cpu.push({ labels: { ...labels, cpu: 'total' }, value: c.cpuUsageNs / 1e9, timestampMs: t });
      ws.push({ labels, value: c.memoryWorkingSetBytes, timestampMs: t });
      usage.push({ labels, value: c.memoryUsageBytes, timestampMs: t });
      rss.push({ labels, value: c.memoryRssBytes, timestampMs: t });
      faults.push({ labels: { ...labels, failure_type: 'pgfault', scope: 'container' }, value: c.pageFaults, timestampMs: t });
      faults.push({ labels: { ...labels, failure_type: 'pgmajfault', scope: 'container' }, value: c.majorPageFaults, timestampMs: t });
      fs.push({ labels: { ...labels, device: opts.device ?? '' }, value: c.logsBytes, timestampMs: t });
    }
  }
  return out
    .family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.', cpu)
    .family('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.', ws)
    .family('container_memory_usage_bytes', 'gauge', 'Current memory usage in bytes, including all memory regardless of when it was accessed', usage)
    .family('container_memory_rss', 'gauge', 'Size of RSS in bytes.', rss)
    .family('container_memory_failures_total', 'counter', 'Cumulative count of memory allocation failures.', faults)
    .family('container_network_receive_bytes_total', 'counter', 'Cumulative count of bytes received', rx)
    .family('container_network_transmit_bytes_total', 'counter', 'Cumulative count of bytes transmitted', tx)
    .family('container_network_receive_errors_total', 'counter', 'Cumulative count of errors encountered while receiving', rxErr)
    .family('container_network_transmit_errors_total', 'counter', 'Cumulative count of errors encountered while transmitting', txErr)
    .family('container_fs_usage_bytes', 'gauge', 'Number of bytes that are consumed by the container on this filesystem.', fs)
    .toString();
}
