/**
 * The HTTP/1.1 API server (kube-apiserver's GenericAPIServer in small): Node's http.Server with
 * Berth's limits (limits.ts), every request and every Upgrade through one handler chain
 * (handler-chain.ts), a route table for non-resource paths (version, health, discovery, OpenAPI,
 * static assets) and the resource handlers for everything under /api/v1 and /apis/<group>/<version>.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Registry } from '../registry/registry.ts';
import { ApiError } from '../errors/index.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { allowAllAuthorizer, anonymousAuthenticator, type Authenticator, type Authorizer } from './access.ts';
import { buildHandlerChain } from './handler-chain.ts';
import { writeUpgradeError } from './http-util.ts';
import * as LIMITS from './limits.ts';
import { addMetaRoutes } from './meta-routes.ts';
import { serveResource, serveResourceUpgrade } from './resource-handler.ts';
import { RouteTable, type Route } from './route-table.ts';
import { staticAssets } from './static-assets.ts';
import { watchLimiter } from './watch-limiter.ts';
import type { AgentTls } from './proxy/pod-stream-proxy.ts';

/** The limits of limits.ts, each overridable (tests shorten the timeouts). */
export interface ServerLimits {
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxWatchesPerClient: number;
  /** How often Node checks the two timeouts above (Node's default: 30 s). */
  timeoutCheckIntervalMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxHeaderBytes: LIMITS.MAX_HEADER_BYTES,
  headersTimeoutMs: LIMITS.HEADERS_TIMEOUT_MS,
  requestTimeoutMs: LIMITS.REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: LIMITS.KEEP_ALIVE_TIMEOUT_MS,
  maxWatchesPerClient: LIMITS.MAX_WATCHES_PER_CLIENT,
  timeoutCheckIntervalMs: 30_000,
};

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
  limits?: Partial<ServerLimits>;
  /**
   * Serve HTTPS with this certificate; client certificates signed by `ca` are asked for (and
   * verified) but not required — a request without one authenticates by token or not at all.
   */
  tls?: { cert: string; key: string; ca: string };
  /** How pod streams reach node agents: the cluster CA and the API server's kubelet-client certificate (a getter: renewed in place). */
  agentTls?: () => AgentTls;
}

/** The server: plain HTTP only for tests of parts; every `berth server` serves TLS. */
export type ApiHttpServer = http.Server | https.Server;

/** What Node's parser refused, as the Status Berth answers everything else with. */
function clientErrorStatus(err: NodeJS.ErrnoException): ApiError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError('BERTH_HEADERS_TOO_LARGE', 'request header fields too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError('BERTH_REQUEST_TIMEOUT', 'the request was not received in time');
    default:
      return new ApiError('BERTH_BAD_REQUEST', `malformed HTTP request: ${err.code ?? err.message}`);
  }
}

export function createApiServer(opts: ApiServerOptions): ApiHttpServer {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const log = opts.log ?? createLogger({}, { component: 'api-server' });
  const routes = addMetaRoutes(new RouteTable(), { version: opts.version, ready: opts.ready, registry: opts.registry });
  for (const s of opts.staticAssets ?? []) routes.add(staticAssets(s.prefix, s.dir));
  for (const r of opts.routes ?? []) routes.add(r);
  const resources = { registry: opts.registry, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, agentTls: opts.agentTls };
  const chain = buildHandlerChain({
    routes, log,
    resource: (r, res) => serveResource(resources, r, res),
    upgrade: (r, socket, head) => serveResourceUpgrade(resources, r, socket, head),
    authenticate: opts.authenticate ?? anonymousAuthenticator,
    authorize: opts.authorize ?? allowAllAuthorizer,
    inFlight: watchLimiter(limits.maxWatchesPerClient),
  });
  const httpOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => { void chain.serve(req, res); };
  const server: ApiHttpServer = opts.tls
    ? https.createServer({ ...httpOptions, ...opts.tls, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, handler)
    : http.createServer(httpOptions, handler);
  if (opts.tls) {
    // Plain HTTP to the TLS port gets Go's answer instead of a silent close. The reply goes on the
    // raw TCP socket under the failed TLS one (`_parent`: Node's, stable since TLSWrap).
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const raw = (socket as Duplex & { _parent?: Duplex })._parent;
      if (err.code === 'ERR_SSL_HTTP_REQUEST' && raw?.writable) {
        raw.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
      } else socket.destroy();
    });
  }
  server.on('upgrade', (req, socket, head) => { void chain.serveUpgrade(req, socket, head); });
  // Node's own answers (bad syntax, 431, 408 for a request not received in time) carry a Status
  // too — unless a response has started on that socket, which only closing can end.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    writeUpgradeError(socket, clientErrorStatus(err));
  });
  // An accept error (EMFILE …) would otherwise be an unhandled 'error' event and end the process.
  server.once('listening', () => server.on('error', (err) => log.error('API server error', { error: err.message })));
  return server;
}
