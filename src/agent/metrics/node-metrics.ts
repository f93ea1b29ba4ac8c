/**
 * The agent's metrics part, composed (the kubelet's cAdvisor + metrics server wiring): the sampler
 * over this node's pods, the agent's own registry with its runtime drivers and image pulls
 * instrumented, pod start latency from the pod informer, and the endpoints the agent server serves:
 *
 *   /metrics            the agent's registry (prom-client)
 *   /metrics/resource   resource-metrics.ts        /metrics/cadvisor  cadvisor-metrics.ts
 *   /stats/summary      stats-summary.ts           /stats/history     the sampler's history (charts)
 */
import { cpus } from 'node:os';
import type { KubeObject } from '../../apis/object.ts';
import type { Logger } from '../../util/log.ts';
import type { CgroupLayout } from '../runtime/cgroups/index.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import type { AgentMetricsSource } from '../streams/agent-server.ts';
import { AgentMetrics } from './agent-metrics.ts';
import { cadvisorText } from './cadvisor-metrics.ts';
import { TEXT_CONTENT_TYPE } from './prom-text.ts';
import { resourceMetricsText } from './resource-metrics.ts';
import { cgroupPids } from './cgroup-stats.ts';
import { MetricsSampler, type PodRef } from './sampler.ts';
import { statsHistory, statsSummary } from './stats-summary.ts';

/** What the part needs of a pod worker (structural: the worker table's PodWorker). */
export interface SampledWorker {
  readonly uid: string;
  readonly pod: KubeObject;
  instance(name: string): { id?: string; running: boolean; driver?: { name: string } } | undefined;
}

export interface NodeMetricsOptions {
  nodeName: string;
  dataDir: string;
  layout: CgroupLayout;
  /** Pod cgroups' parent (`berth`): a pod's is `<cgroupRoot>/pod-<uid>`. */
  cgroupRoot: string;
  workers: Iterable<SampledWorker>;
  /** Instrumented in place: the map's drivers are replaced by timed ones. */
  drivers?: Map<string, RuntimeDriver>;
  /** Instrumented in place: its `pull` is counted and timed. */
  images?: { pull: (...args: never[]) => Promise<unknown> };
  log: Logger;
  /**
   * Sampling interval (default: env BERTH_METRICS_INTERVAL_MS, else 10 s); 0 turns sampling off (the
   * endpoints then report nothing) — the benchmark compares the two.
   */
  intervalMs?: number;
  historyMs?: number;
}

/** The agent's pod informer, as far as pod start latency needs it. */
export interface PodEvents {
  addHandlers(h: { add?: (o: KubeObject) => void; update?: (o: KubeObject, n: KubeObject) => void; delete?: (o: KubeObject) => void }): void;
}

export interface NodeMetrics {
  source: AgentMetricsSource;
  /** Follows pod updates on this node (the agent's pod informer, once it runs) for pod start latency. */
  watchPods(pods: PodEvents): void;
  sampler: MetricsSampler;
  metrics: AgentMetrics;
  /** This node's host-network pods with the pids of their running containers (the traffic source names their sockets). */
  hostNetworkPods(): { namespace: string; name: string; pids: number[] }[];
  stop(): void;
}

/** The pods the sampler reads, from the workers: containers with their current driver id. */
export function podRefs(workers: Iterable<SampledWorker>, cgroupRoot: string): PodRef[] {
  const out: PodRef[] = [];
  for (const w of workers) {
    const pod = w.pod;
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c: { name: string; image?: string }) => {
      const inst = w.instance(c.name);
      return { name: c.name, image: c.image ?? '', id: inst?.id, running: !!inst?.running, runtime: inst?.driver?.name };
    });
    out.push({
      uid: w.uid, namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '',
      cgroupPath: `${cgroupRoot}/pod-${w.uid}`, hostNetwork: pod.spec?.hostNetwork === true, containers,
    });
  }
  return out;
}

function* hostNetworkWorkers(workers: Iterable<SampledWorker>): Iterable<SampledWorker> {
  for (const w of workers) if (w.pod.spec?.hostNetwork === true) yield w;
}

export function startNodeMetrics(opts: NodeMetricsOptions): NodeMetrics {
  const startTime = Date.now();
  const fromEnv = process.env.BERTH_METRICS_INTERVAL_MS;
  const intervalMs = opts.intervalMs ?? (fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : 10_000);
  const metrics = new AgentMetrics();
  if (opts.drivers) for (const [k, d] of opts.drivers) opts.drivers.set(k, metrics.instrumentDriver(d));
  if (opts.images) {
    const images = opts.images;
    images.pull = metrics.instrumentPull(images.pull.bind(images)) as typeof images.pull;
  }
  const sampler = new MetricsSampler({
    layout: opts.layout, dataDir: opts.dataDir, intervalMs: intervalMs || 10_000, historyMs: opts.historyMs,
    pods: () => podRefs(opts.workers, opts.cgroupRoot),
    onError: (err) => opts.log.warn('metrics sampling failed', { error: err.message }),
  });
  if (intervalMs !== 0) sampler.start();
  metrics.countSampler('metrics', () => sampler.cost());
  const text = (body: string) => ({ contentType: TEXT_CONTENT_TYPE, body });
  const json = (body: object) => ({ contentType: 'application/json', body: JSON.stringify(body) });
  const cores = cpus().length;
  const source: AgentMetricsSource = {
    async serve(path, query) {
      switch (path) {
        case '/metrics': return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
        case '/metrics/resource': return text(resourceMetricsText(sampler.latest()));
        case '/metrics/cadvisor': return text(cadvisorText(sampler.latest(), { cores }));
        case '/stats/summary': return json(statsSummary(sampler.latest(), opts.nodeName, startTime));
        case '/stats/history': return json(statsHistory(sampler, query));
        default: return undefined;
      }
    },
  };
  const watchPods = (pods: PodEvents) => pods.addHandlers({
    add: (p) => metrics.observePod(p),
    update: (_, p) => metrics.observePod(p),
    delete: (p) => { if (p.metadata.uid) metrics.forgetPod(p.metadata.uid); },
  });
  // Asked every traffic sample (2 s): only the host-network pods' workers are turned into refs.
  const hostNetworkPods = () => podRefs(hostNetworkWorkers(opts.workers), opts.cgroupRoot).map((p) => ({
    namespace: p.namespace, name: p.name,
    pids: p.containers.flatMap((c) => (c.running && c.id ? cgroupPids(opts.layout, `${p.cgroupPath}/${c.id}`) : [])),
  }));
  return { source, sampler, metrics, watchPods, hostNetworkPods, stop: () => sampler.stop() };
}
