/**
 * CPU and memory of a pod (or a node) over the last 15 minutes, drawn by uPlot from the agent's
 * history (`/stats/history` through the node proxy — src/agent/metrics), refreshed every 10 s as
 * the agent samples. Shown to users allowed nodes/proxy, which that path needs.
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { apiJson } from '../api.ts';

interface Point { t: number; cpuNanoCores?: number; memoryWorkingSetBytes?: number }

/** Columns for uPlot: seconds, CPU in millicores, memory in MiB. */
export function chartColumns(points: readonly Point[]): [number[], (number | null)[], (number | null)[]] {
  return [
    points.map((p) => p.t / 1000),
    points.map((p) => (p.cpuNanoCores === undefined ? null : p.cpuNanoCores / 1e6)),
    points.map((p) => (p.memoryWorkingSetBytes === undefined ? null : p.memoryWorkingSetBytes / 2 ** 20)),
  ];
}

export function MetricsChart({ node, namespace, pod }: { node: string; namespace?: string; pod?: string }) {
  const el = useRef<HTMLDivElement>(null);
  const [err, setErr] = useState('');
  const [count, setCount] = useState(0);
  useEffect(() => {
    let plot: uPlot | undefined;
    let live = true;
    const q = pod ? `?namespace=${encodeURIComponent(namespace ?? '')}&pod=${encodeURIComponent(pod)}` : '';
    const load = async () => {
      try {
        const r = await apiJson(`/api/v1/nodes/${encodeURIComponent(node)}/proxy/stats/history${q}`);
        if (!live) return;
        const points: Point[] = pod ? r.pods?.[`${namespace}/${pod}`] ?? [] : r.node ?? [];
        const data = chartColumns(points);
        setCount(points.length);
        setErr('');
        if (!plot && el.current) {
          plot = new uPlot({
            width: Math.max(400, el.current.clientWidth - 10), height: 260,
            series: [{}, { label: 'CPU (millicores)', stroke: '#2d5bd7', scale: 'cpu' }, { label: 'memory (MiB)', stroke: '#7a5af8', scale: 'mem' }],
            axes: [{}, { scale: 'cpu', label: 'm' }, { scale: 'mem', side: 1, label: 'MiB', grid: { show: false } }],
          }, data, el.current);
        } else plot?.setData(data);
      } catch (e) {
        if (live) setErr((e as Error).message);
      }
    };
    void load();
    const t = setInterval(load, 10_000);
    return () => { live = false; clearInterval(t); plot?.destroy(); };
  }, [node, namespace, pod]);
  return h('div', { class: 'metrics' },
    err ? h('div', { class: 'note' }, `No metrics: ${err}`) : h('div', { class: 'count', 'data-testid': 'metrics-count' }, `${count} samples (every ~10 s, last 15 min)`),
    h('div', { ref: el, 'data-testid': 'metrics-chart' }));
}
