/**
 * The API server's own non-resource paths: version, health, discovery documents and OpenAPI, as
 * kube-apiserver installs them on its NonGoRestfulMux (routes/version.go, healthz, discovery,
 * openapi). Each is one entry in the route table.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../errors/index.ts';
import { RESOURCES } from '../apis/resources.ts';
import { buildDiscovery, versionInfo } from './discovery.ts';
import { buildAggregatedDiscovery, negotiateAggregated, sendAggregated, type AggregatedDiscovery } from './aggregated-discovery.ts';
import { METRICS_RESOURCES } from './metrics-api/metrics-api.ts';
import { CONVERTED_RESOURCES } from './handlers/converted-version.ts';
import { sendJson } from './http-util.ts';
import { buildOpenApiV2, buildOpenApiV3Index, openApiV3Serialized } from './openapi/documents.ts';
import type { RouteTable } from './route-table.ts';
import type { Registry } from '../registry/registry.ts';
import { customResourceInfos } from './custom-resources.ts';
import { customResourceOpenApi } from './openapi/custom-resources.ts';

export interface MetaRouteOptions {
  version: string;
  /** Readiness: false until start-up work (default namespaces) is done. */
  ready?: () => boolean;
  /** Custom resources come and go with their CRDs: discovery and OpenAPI follow the Registry's generation. */
  registry?: Registry;
  /**
   * Serve aggregated discovery (apidiscovery.k8s.io/v2) to clients that ask for it; default on, as
   * in Kubernetes 1.30+. Off (or BERTH_AGGREGATED_DISCOVERY=0) leaves only the legacy documents —
   * the peer of the discovery benchmark.
   */
  aggregatedDiscovery?: boolean;
}

export function addMetaRoutes(table: RouteTable, opts: MetaRouteOptions): RouteTable {
  // metrics.k8s.io is served without a store (metrics-api/), so it is not among RESOURCES.
  let built: { generation: number; discovery: ReturnType<typeof buildDiscovery>; aggregated?: AggregatedDiscovery } | undefined;
  const allResources = () => [...RESOURCES, ...METRICS_RESOURCES, ...CONVERTED_RESOURCES, ...customResourceInfos(opts.registry)];
  const current = () => {
    const generation = opts.registry?.generation ?? 0;
    if (built?.generation !== generation) built = { generation, discovery: buildDiscovery(allResources()) };
    return built.discovery;
  };
  // Built on first ask and again after a CRD changes the registry's generation, like the legacy documents.
  const aggregated = () => {
    current();
    return (built!.aggregated ??= buildAggregatedDiscovery(allResources()));
  };
  const aggregatedOn = opts.aggregatedDiscovery ?? process.env.BERTH_AGGREGATED_DISCOVERY !== '0';
  const root = (which: 'api' | 'apis') => (r: { req: IncomingMessage }, res: ServerResponse) => {
    const v = aggregatedOn ? negotiateAggregated(r.req.headers.accept) : undefined;
    if (v) return sendAggregated(r.req, res, v, aggregated()[which][v]);
    res.setHeader('Vary', 'Accept');
    sendJson(res, 200, current()[which]);
  };
  const version = versionInfo(opts.version);
  return table
    .add({ path: '/version', handle: (_r, res) => sendJson(res, 200, version) })
    .add({ path: '/healthz', handle: (_r, res) => sendText(res, 200, 'ok') })
    .add({ path: '/livez', handle: (_r, res) => sendText(res, 200, 'ok') })
    .add({ path: '/readyz', handle: (_r, res) => (opts.ready?.() === false ? sendText(res, 503, 'not ready') : sendText(res, 200, 'ok')) })
    .add({ path: '/api', handle: root('api') })
    .add({ path: '/apis', handle: root('apis') })
    // `/api/v1`, `/apis/<group>` and `/apis/<group>/<version>`; longer paths are resource requests.
    .add({
      path: '/api/',
      handle: (r, res) => {
        const gv = r.target.segments.length === 2 ? r.target.segments[1] : undefined;
        const list = gv && current().resourceLists.get(gv);
        if (!list) throw errors.notFound('', 'groupversion', r.target.segments.slice(1).join('/'));
        sendJson(res, 200, list);
      },
    })
    .add({
      path: '/apis/',
      handle: (r, res) => {
        const s = r.target.segments;
        if (s.length === 3) {
          const discovery = current();
          const list = discovery.resourceLists.get(`${s[1]}/${s[2]}`);
          if (list) return sendJson(res, 200, list);
          throw errors.notFound('', 'groupversion', `${s[1]}/${s[2]}`);
        }
        const groups = (current().apis as { groups: { name: string }[] }).groups;
        const g = s.length === 2 ? groups.find((x) => x.name === s[1]) : undefined;
        if (!g) throw errors.notFound('', 'path', r.target.path);
        sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g });
      },
    })
    .add({
      path: '/openapi/v2',
      handle: (r, res) => (acceptsJson(r.req) ? sendJson(res, 200, withCustomV2(buildOpenApiV2(), opts.registry)) : sendOpenApiV2Proto(res)),
    })
    .add({ path: '/openapi/v3', handle: (_r, res) => sendJson(res, 200, withCustomV3Index(buildOpenApiV3Index(), opts.registry)) })
    .add({
      path: '/openapi/v3/',
      handle: (r, res) => {
        const gvPath = r.target.segments.slice(2).join('/');
        const doc = (opts.registry && customResourceOpenApi(opts.registry).v3.get(gvPath)) || openApiV3Serialized(gvPath);
        if (!doc) throw errors.notFound('', 'openapi', r.target.path);
        res.setHeader('ETag', `"${doc.hash}"`);
        // kubectl fetches with ?hash=…; the document is immutable for that hash.
        if (r.target.query.get('hash') === doc.hash) res.setHeader('Cache-Control', 'public, immutable');
        sendJson(res, 200, doc.json);
      },
    });
}

/** The v3 index with the custom resources' group-versions. */
function withCustomV3Index(index: object, registry: Registry | undefined): object {
  const custom = registry && customResourceOpenApi(registry).v3;
  if (!custom?.size) return index;
  const paths = { ...(index as { paths: Record<string, object> }).paths };
  for (const [gv, d] of custom) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${d.hash}` };
  return { ...index, paths };
}

/** The v2 document with the custom resources' paths and definitions. */
function withCustomV2(doc: object, registry: Registry | undefined): object {
  const custom = registry && customResourceOpenApi(registry);
  if (!custom || !Object.keys(custom.v2Paths).length) return doc;
  const d = doc as { paths: object; definitions: object };
  return { ...doc, paths: { ...d.paths, ...custom.v2Paths }, definitions: { ...d.definitions, ...custom.v2Definitions } };
}

/** True unless the client asks only for non-JSON types (e.g. kubectl's protobuf-only OpenAPI v2 fetch). */
function acceptsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  if (!accept) return true;
  return accept.split(',').some((p) => /application\/json|\*\/\*|application\/\*/.test(p));
}

/**
 * kubectl asks for /openapi/v2 as protobuf (gnostic openapi_v2.Document) only for client-side
 * validation of kinds no v3 document describes — kinds Berth does not serve. A document with no
 * definitions makes it skip that validation, and the apply then fails with the real reason
 * ("no matches for kind …"). Fields: 1 swagger, 2 info {1 title, 2 version}.
 */
function sendOpenApiV2Proto(res: ServerResponse): void {
  const str = (field: number, s: string) => Buffer.concat([Buffer.from([(field << 3) | 2, Buffer.byteLength(s)]), Buffer.from(s)]);
  const info = Buffer.concat([str(1, 'Kubernetes'), str(2, 'v1.32.0')]);
  const body = Buffer.concat([str(1, '2.0'), Buffer.from([(2 << 3) | 2, info.length]), info]);
  res.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': body.length });
  res.end(body);
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
