/**
 * The metrics.k8s.io/v1beta1 API (metrics-server's API, served here by the API server itself rather
 * than aggregated): NodeMetrics and PodMetrics, get and list, with label selectors, namespaces,
 * `metadata.name` field selectors and tables — enough for `kubectl top nodes|pods [-A]
 * [--containers] [-l …]` and `kubectl get nodemetrics|podmetrics`. Figures come from each node
 * agent's Summary API (node-summaries.ts), read when asked with a short cache; nothing is stored.
 *
 *   GET /apis/metrics.k8s.io/v1beta1/nodes[/NAME]
 *   GET /apis/metrics.k8s.io/v1beta1/[namespaces/NS/]pods[/NAME]
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../../apis/object.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import { parseFieldSelector } from '../../apis/selectors/field-selector.ts';
import { parseLabelSelector } from '../../apis/selectors/label-selector.ts';
import { errors } from '../../errors/index.ts';
import type { Registry } from '../../registry/registry.ts';
import type { TableConvertor } from '../../registry/types.ts';
import { agentUrlOf } from '../handlers/pod-streams.ts';
import { sendJson } from '../http-util.ts';
import type { RequestInfo } from '../request-info.ts';
import { tableVersion, toTable, wantsTable } from '../table.ts';
import { METRICS_API_VERSION, nodeMetrics, podMetrics } from './metrics-objects.ts';
import type { Summary, SummaryReader } from './node-summaries.ts';

export const METRICS_GROUP = 'metrics.k8s.io';

/** The API's resources, for discovery (not registry kinds: nothing is stored). */
export const METRICS_RESOURCES: ResourceInfo[] = [
  { group: METRICS_GROUP, version: 'v1beta1', kind: 'NodeMetrics', plural: 'nodes', singular: '', namespaced: false, verbs: ['get', 'list'] },
  { group: METRICS_GROUP, version: 'v1beta1', kind: 'PodMetrics', plural: 'pods', singular: '', namespaced: true, verbs: ['get', 'list'] },
];

const usageCell = (m: KubeObject, key: 'cpu' | 'memory') => {
  if (m.usage) return m.usage[key];
  return (m.containers as Array<{ usage: Record<string, string> }>).map((c) => c.usage[key]).join(',');
};

const TABLE: TableConvertor = {
  columns: [
    { name: 'Name', type: 'string', format: 'name', priority: 0 },
    { name: 'CPU', type: 'string', priority: 0 },
    { name: 'Memory', type: 'string', priority: 0 },
    { name: 'Window', type: 'string', priority: 0 },
  ],
  cells: (m) => [m.metadata.name, usageCell(m, 'cpu'), usageCell(m, 'memory'), m.window],
};

export interface MetricsApiOptions {
  registry: Registry;
  summaries: SummaryReader;
}

async function summaryOf(opts: MetricsApiOptions, node: KubeObject): Promise<Summary | undefined> {
  const url = agentUrlOf(node);
  return url ? opts.summaries.read(node.metadata.name!, url) : undefined;
}

/** Objects that pass the request's label selector and `metadata.name`/`metadata.namespace` field selector. */
function selected(query: URLSearchParams): (o: KubeObject) => boolean {
  const labels = parseLabelSelector(query.get('labelSelector') ?? '');
  const fields = parseFieldSelector(query.get('fieldSelector') ?? '');
  return (o) => labels.matches(o.metadata.labels) && fields.matches((f: string) => (
    f === 'metadata.name' ? o.metadata.name : f === 'metadata.namespace' ? o.metadata.namespace : undefined));
}

async function nodesMetrics(opts: MetricsApiOptions, info: RequestInfo, query: URLSearchParams, now: string): Promise<KubeObject[]> {
  const store = opts.registry.store('', 'nodes')!;
  const nodes = info.name ? [await store.get(undefined, info.name)] : (await store.list(undefined)).items.filter(selected(query));
  const out = await Promise.all(nodes.map(async (n) => nodeMetrics(n, await summaryOf(opts, n), now)));
  return out.filter((m): m is KubeObject => !!m);
}

async function podsMetrics(opts: MetricsApiOptions, info: RequestInfo, query: URLSearchParams, now: string): Promise<KubeObject[]> {
  const store = opts.registry.store('', 'pods')!;
  const pods = info.name
    ? [await store.get(info.namespace, info.name)]
    : (await store.list(info.namespace)).items.filter(selected(query));
  const byNode = new Map<string, KubeObject[]>();
  for (const p of pods) {
    const node = p.spec?.nodeName as string | undefined;
    if (!node || p.status?.phase !== 'Running') continue;
    byNode.set(node, [...(byNode.get(node) ?? []), p]);
  }
  const nodes = opts.registry.store('', 'nodes')!;
  const out: KubeObject[] = [];
  await Promise.all([...byNode].map(async ([nodeName, podsHere]) => {
    const node = await nodes.get(undefined, nodeName).catch(() => undefined);
    const summary = node && await summaryOf(opts, node);
    if (!summary) return;
    const byUid = new Map(summary.pods.map((s) => [s.podRef.uid, s]));
    for (const p of podsHere) {
      const m = podMetrics(p, byUid.get(p.metadata.uid!), now);
      if (m) out.push(m);
    }
  }));
  return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
}

/**
 * PodMetrics of a namespace's pods matching a label selector, for in-process readers (the
 * HorizontalPodAutoscaler controller; upstream's reads metrics.k8s.io through the API).
 */
export function listPodMetrics(opts: MetricsApiOptions, namespace: string, labelSelector: string): Promise<KubeObject[]> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const info: RequestInfo = { group: METRICS_GROUP, version: 'v1beta1', namespace, resource: 'pods', verb: 'list' };
  return podsMetrics(opts, info, new URLSearchParams({ labelSelector }), now);
}

/** Answers a metrics.k8s.io request (the caller has authorized it like any resource request). */
export async function serveMetricsApi(opts: MetricsApiOptions, info: RequestInfo, query: URLSearchParams, accept: string | undefined, res: ServerResponse): Promise<void> {
  const r = METRICS_RESOURCES.find((x) => x.plural === info.resource);
  if (!r || info.version !== 'v1beta1' || info.subresource) throw errors.notFound(METRICS_GROUP, info.resource, info.name ?? '');
  if (info.verb !== 'get' && info.verb !== 'list') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const items = r.plural === 'nodes' ? await nodesMetrics(opts, info, query, now) : await podsMetrics(opts, info, query, now);
  if (info.name && !items.length) throw errors.notFound(METRICS_GROUP, r.plural, info.name);
  if (wantsTable(accept)) {
    sendJson(res, 200, toTable(items, { convertor: TABLE, include: 'Metadata', apiVersion: tableVersion(accept) }));
    return;
  }
  if (info.name) { sendJson(res, 200, items[0]); return; }
  sendJson(res, 200, { kind: `${r.kind}List`, apiVersion: METRICS_API_VERSION, metadata: {}, items });
}
