/**
 * Resource requests (kube-apiserver's installed REST routes, endpoints/installer.go): the parsed
 * RequestInfo picks the resource's store, then the verb's handler.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errors } from '../errors/index.ts';
import type { Registry } from '../registry/registry.ts';
import type { RequestInfo } from './request-info.ts';
import type { ApiRequest } from './handler-chain.ts';
import type { HandlerContext } from './handlers/context.ts';
import { handleGet, handleList, handleWatch } from './handlers/read.ts';
import { handleCreate, handlePatch, handleUpdate } from './handlers/write.ts';
import { handleDelete, handleDeleteCollection } from './handlers/delete.ts';
import { handleSubresource } from './handlers/subresources.ts';
import { handleUpgrade } from './handlers/pod-streams.ts';
import type { AgentTls } from './proxy/pod-stream-proxy.ts';
import type { ResourceStore } from '../registry/resource-store.ts';
import { verbsOf } from './discovery.ts';
import { handleNodeProxy } from './handlers/node-proxy.ts';
import { conversionFor, serveConverted } from './handlers/converted-version.ts';
import { METRICS_GROUP, serveMetricsApi } from './metrics-api/metrics-api.ts';
import { SummaryReader } from './metrics-api/node-summaries.ts';

export interface ResourceHandlerOptions {
  registry: Registry;
  bookmarkIntervalMs: number;
  agentTls?: () => AgentTls;
}

/** The store serving `info`, or the 404 Kubernetes answers for an unknown resource or version. */
function storeFor(registry: Registry, info: RequestInfo): ResourceStore {
  const store = registry.store(info.group, info.resource, info.version);
  if (!store) throw errors.notFound(info.group, info.resource, info.name ?? '');
  if (store.type.info.namespaced && !info.namespace && info.name) throw errors.notFound(info.group, info.resource, info.name);
  return store;
}

/** One agent-summary cache per server (its options object), for metrics.k8s.io. */
const summaryReaders = new WeakMap<ResourceHandlerOptions, SummaryReader>();

export async function serveResource(opts: ResourceHandlerOptions, r: ApiRequest & { info: RequestInfo }, res: ServerResponse): Promise<void> {
  const { info, req } = r;
  if (info.group === METRICS_GROUP) {
    let summaries = summaryReaders.get(opts);
    if (!summaries) summaryReaders.set(opts, (summaries = new SummaryReader({ tls: () => opts.agentTls?.() })));
    return serveMetricsApi({ registry: opts.registry, summaries }, info, r.target.query, req.headers.accept, res);
  }
  const conversion = conversionFor(info);
  if (conversion) {
    const stored = opts.registry.store(info.group, info.resource)!;
    if (stored.type.info.namespaced && !info.namespace && info.name) throw errors.notFound(info.group, info.resource, info.name);
    return serveConverted({ req, res, query: r.target.query, info, store: stored, registry: opts.registry, user: r.user, bookmarkIntervalMs: opts.bookmarkIntervalMs, agentTls: opts.agentTls }, conversion);
  }
  const store = storeFor(opts.registry, info);
  const ctx: HandlerContext = { req, res, query: r.target.query, info, store, registry: opts.registry, user: r.user, bookmarkIntervalMs: opts.bookmarkIntervalMs, agentTls: opts.agentTls };
  if (info.group === '' && info.resource === 'nodes' && info.subresource === 'proxy') return handleNodeProxy(ctx, r.target.segments);
  // What go-restful answers for a route the resource does not install: a verb it does not serve,
  // PUT or PATCH on a collection, POST on an object.
  const itemOnly = info.verb === 'update' || info.verb === 'patch';
  if ((!info.subresource && !verbsOf(store.type.info).includes(info.verb)) || (itemOnly && !info.name) || (info.verb === 'create' && info.name && !info.subresource)) {
    throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  }
  if (info.subresource && info.subresource !== 'status') {
    if (await handleSubresource(ctx)) return;
    throw errors.methodNotAllowed(`${req.method} is not supported on ${info.resource}/${info.subresource}`);
  }
  switch (info.verb) {
    case 'get': return handleGet(ctx);
    case 'list': return handleList(ctx);
    case 'watch': return handleWatch(ctx);
    case 'create': return handleCreate(ctx);
    case 'update': return handleUpdate(ctx);
    case 'patch': return handlePatch(ctx);
    case 'delete': return handleDelete(ctx);
    case 'deletecollection': return handleDeleteCollection(ctx);
  }
}

/** exec / attach / portforward arrive as websocket (or SPDY) upgrades. */
export async function serveResourceUpgrade(opts: ResourceHandlerOptions, r: ApiRequest, socket: Duplex, head: Buffer): Promise<void> {
  await handleUpgrade(opts.registry, r, socket, head, opts.agentTls);
}
