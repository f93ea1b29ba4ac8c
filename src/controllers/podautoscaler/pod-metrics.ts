/**
 * Where the HPA controller reads pod metrics: the API server's metrics.k8s.io (api/metrics-api)
 * called in-process — the same PodMetrics `kubectl top` shows, from the node agents' summaries —
 * as upstream's controller reads metrics.k8s.io (its REST metrics client).
 */
import type { AgentTls } from '../../api/proxy/pod-stream-proxy.ts';
import { listPodMetrics } from '../../api/metrics-api/metrics-api.ts';
import { SummaryReader } from '../../api/metrics-api/node-summaries.ts';
import type { Registry } from '../../registry/registry.ts';
import type { PodMetricsSource } from './horizontal-controller.ts';

/** PodMetrics through the registry's pods and nodes and the agents (dialled with `tls` when given). */
export function registryPodMetrics(registry: Registry, tls?: () => AgentTls): PodMetricsSource {
  const summaries = new SummaryReader({ tls });
  return (namespace, labelSelector) => listPodMetrics({ registry, summaries }, namespace, labelSelector);
}
