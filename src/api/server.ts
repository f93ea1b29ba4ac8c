/**
 * The HTTP/1.1 API server: meta endpoints (version, health, discovery, OpenAPI) and resource
 * requests dispatched to the handlers. Every failure answers with a metav1.Status.
 *
 *   request → parseRequestInfo → Registry.store(group, plural) → handlers/{read,write,delete,subresources}
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../errors/index.ts';
import type { Registry } from '../registry/registry.ts';
import { RESOURCES } from '../apis/resources.ts';
import { buildDiscovery, versionInfo } from './discovery.ts';
import { parseRequestInfo } from './request-info.ts';
import { sendError, sendJson } from './http-util.ts';
import type { HandlerContext } from './handlers/context.ts';
import { handleGet, handleList, handleWatch } from './handlers/read.ts';
import { handleCreate, handlePatch, handleUpdate } from './handlers/write.ts';
import { handleDelete, handleDeleteCollection } from './handlers/delete.ts';
import { handleSubresource } from './handlers/subresources.ts';
import { handleUpgrade } from './handlers/pod-streams.ts';
import { buildOpenApiV2, openApiV3Serialized, buildOpenApiV3Index } from './openapi/documents.ts';

export interface ApiServerOptions {
  registry: Registry;
  version: string;
  /** Readiness: false until start-up work (default namespaces) is done. */
  ready?: () => boolean;
  bookmarkIntervalMs?: number;
}

export function createApiServer(opts: ApiServerOptions): http.Server {
  const discovery = buildDiscovery(RESOURCES);
  const version = versionInfo(opts.version);
  const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) => {
    handle(req, res).catch((err) => sendError(res, err));
  });
  // Slow or idle clients never hold the server: each request is its own async task; watches and
  // long reads are bounded per connection by the watch buffer (watch-stream.ts).
  server.headersTimeout = 30_000;
  // exec / attach / portforward arrive as websocket (or SPDY) upgrades.
  server.on('upgrade', (req, socket, head) => handleUpgrade(opts.registry, req, socket, head));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'GET' || req.method === 'HEAD') {
      switch (path) {
        case '/version': return sendJson(res, 200, version);
        case '/healthz': case '/livez': return sendText(res, 200, 'ok');
        case '/readyz': return opts.ready?.() === false ? sendText(res, 503, 'not ready') : sendText(res, 200, 'ok');
        case '/api': return sendJson(res, 200, discovery.api);
        case '/apis': return sendJson(res, 200, discovery.apis);
        case '/openapi/v2':
          if (!acceptsJson(req.headers.accept)) return sendOpenApiV2Proto(res);
          return sendJson(res, 200, buildOpenApiV2());
        case '/openapi/v3': return sendJson(res, 200, buildOpenApiV3Index());
      }
      if (path.startsWith('/openapi/v3/')) {
        const doc = openApiV3Serialized(path.slice('/openapi/v3/'.length));
        if (!doc) throw errors.notFound('', 'openapi', path);
        res.setHeader('ETag', `"${doc.hash}"`);
        // kubectl fetches with ?hash=…; the document is immutable for that hash.
        if (url.searchParams.get('hash') === doc.hash) res.setHeader('Cache-Control', 'public, immutable');
        return sendJson(res, 200, doc.json);
      }
      if (path === '/apis/apiextensions.k8s.io/v1/customresourcedefinitions') {
        // kubectl's validation asks whether an unknown kind is a CRD. Berth serves no CRDs yet: an
        // empty list lets kubectl go on to its real answer ("no matches for kind …").
        return sendJson(res, 200, { kind: 'CustomResourceDefinitionList', apiVersion: 'apiextensions.k8s.io/v1', metadata: { resourceVersion: '0' }, items: [] });
      }
      const gv = path.match(/^\/api\/(v1)$/)?.[1] ?? path.match(/^\/apis\/([^/]+\/[^/]+)$/)?.[1];
      if (gv) {
        const list = discovery.resourceLists.get(gv);
        if (list) return sendJson(res, 200, list);
        throw errors.notFound('', 'groupversion', gv);
      }
      const group = path.match(/^\/apis\/([^/]+)$/)?.[1];
      if (group) {
        const g = (discovery.apis as { groups: { name: string }[] }).groups.find((x) => x.name === group);
        if (g) return sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g });
      }
    }
    const info = parseRequestInfo(req.method ?? 'GET', path, url.searchParams);
    if (!info) throw errors.notFound('', 'path', path);
    const store = opts.registry.store(info.group, info.resource);
    if (!store || store.type.info.version !== info.version) {
      throw errors.notFound(info.group, info.resource, info.name ?? '');
    }
    if (store.type.info.namespaced && !info.namespace && info.name) {
      throw errors.notFound(info.group, info.resource, info.name);
    }
    const ctx: HandlerContext = {
      req, res, query: url.searchParams, info, store, registry: opts.registry,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    };
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

  return server;
}

/** True unless the client asks only for non-JSON types (e.g. kubectl's protobuf-only OpenAPI v2 fetch). */
function acceptsJson(accept: string | undefined): boolean {
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

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
