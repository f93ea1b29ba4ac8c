/**
 * The HTTP/1.1 API server (kube-apiserver's GenericAPIServer in small): Node's http.Server with
 * Berth's limits, every request and every Upgrade through one handler chain (handler-chain.ts),
 * a route table for non-resource paths (version, health, discovery, OpenAPI, static assets) and
 * the resource handlers for everything under /api/v1 and /apis/<group>/<version>.
 */
import http from 'node:http';
import type { Registry } from '../registry/registry.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { allowAllAuthorizer, anonymousAuthenticator, type Authenticator, type Authorizer } from './access.ts';
import { buildHandlerChain } from './handler-chain.ts';
import { addMetaRoutes } from './meta-routes.ts';
import { serveResource, serveResourceUpgrade } from './resource-handler.ts';
import { RouteTable, type Route } from './route-table.ts';
import { staticAssets } from './static-assets.ts';

export interface ApiServerOptions {
  registry: Registry;
  version: string;
  /** Readiness: false until start-up work (default namespaces) is done. */
  ready?: () => boolean;
  bookmarkIntervalMs?: number;
  /** Where 500s and server errors are logged (default: a logger of its own). */
  log?: Logger;
  /** Default: every request is the anonymous user. */
  authenticate?: Authenticator;
  /** Default: everything is allowed. */
  authorize?: Authorizer;
  /** Directories served under path prefixes, e.g. `{ prefix: '/ui/', dir: '/usr/share/berth/ui' }`. */
  staticAssets?: { prefix: string; dir: string }[];
  /** More non-resource routes (metrics …). */
  routes?: Route[];
}

export function createApiServer(opts: ApiServerOptions): http.Server {
  const log = opts.log ?? createLogger({}, { component: 'api-server' });
  const routes = addMetaRoutes(new RouteTable(), { version: opts.version, ready: opts.ready });
  for (const s of opts.staticAssets ?? []) routes.add(staticAssets(s.prefix, s.dir));
  for (const r of opts.routes ?? []) routes.add(r);
  const resources = { registry: opts.registry, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000 };
  const chain = buildHandlerChain({
    routes, log,
    resource: (r, res) => serveResource(resources, r, res),
    upgrade: (r, socket, head) => serveResourceUpgrade(resources, r, socket, head),
    authenticate: opts.authenticate ?? anonymousAuthenticator,
    authorize: opts.authorize ?? allowAllAuthorizer,
  });
  const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) => { void chain.serve(req, res); });
  // Slow or idle clients never hold the server: each request is its own async task; watches and
  // long reads are bounded per connection by the watch buffer (watch-stream.ts).
  server.headersTimeout = 30_000;
  server.on('upgrade', (req, socket, head) => { void chain.serveUpgrade(req, socket, head); });
  return server;
}
