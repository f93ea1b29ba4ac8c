/**
 * The request pipeline, in the order of kube-apiserver's DefaultBuildHandlerChain: every request —
 * plain or an Upgrade (exec, attach, port-forward over websocket or SPDY) — passes the same filters
 * before a handler runs, and every failure ends as a Status.
 *
 *   recover     any throw or rejection → a Status; a non-ApiError is a 500, logged with its request
 *   target      request-target.ts: path segments decoded safely, query
 *   info        request-info.ts: resource request (group, version, resource, verb …) or not
 *   authn       hook (access.ts), default: the anonymous user
 *   impersonate Impersonate-User/-Group/-Uid/-Extra-* headers, each allowed by the authorizer (auth/impersonation.ts)
 *   authz       hook on RequestAttributes (auth/'s Authorizer), default: allow all → 403 unless allowed
 *   in-flight   concurrent watches per client (watch-limiter.ts) → 429
 *   mux         exact non-resource route │ resource handlers │ prefix route (static assets …) │ 404
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, errors } from '../errors/index.ts';
import type { Logger } from '../util/log.ts';
import { parseRequestTarget, type RequestTarget } from './request-target.ts';
import { parseRequestInfo, type RequestInfo } from './request-info.ts';
import { observeRequest } from './request-metrics.ts';
import { forbidden, requestAttributes, type Authenticator, type Authorizer, type RequestAttributes, type UserInfo } from './access.ts';
import { RouteTable } from './route-table.ts';
import { sendError, writeUpgradeError } from './http-util.ts';
import { impersonate } from '../auth/impersonation.ts';

/** One request as the filters and handlers see it. */
export interface ApiRequest {
  req: IncomingMessage;
  target: RequestTarget;
  /** Set for resource requests. */
  info?: RequestInfo;
  user: UserInfo;
  attributes: RequestAttributes;
}

/** Admits a request past the in-flight limits; returns the release to call when it ends. */
export type InFlightFilter = (r: ApiRequest) => (() => void) | undefined;

export interface HandlerChainOptions {
  routes: RouteTable;
  resource(r: ApiRequest & { info: RequestInfo }, res: ServerResponse): Promise<void>;
  upgrade(r: ApiRequest, socket: Duplex, head: Buffer): Promise<void>;
  authenticate: Authenticator;
  authorize: Authorizer;
  inFlight?: InFlightFilter;
  log: Logger;
}

export interface HandlerChain {
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
  serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

export function buildHandlerChain(opts: HandlerChainOptions): HandlerChain {
  /**
   * authn → target → info → authz → in-flight; returns the request and its release. Authentication
   * comes first, on the raw path: a request without credentials stops at 401 before any parsing
   * that could fail (the anonymous paths are plain ASCII, so the raw path names them exactly).
   */
  async function admit(req: IncomingMessage): Promise<{ r: ApiRequest; release?: () => void }> {
    // kubectl --as / --as-group: the authenticated user acts as another once allowed to (auth/impersonation.ts).
    const user = await impersonate(req, await opts.authenticate(req, (req.url ?? '/').split('?')[0]), opts.authorize);
    const target = parseRequestTarget(req.url);
    const method = req.method ?? 'GET';
    const info = parseRequestInfo(method, target.segments, target.query);
    const r: ApiRequest = { req, target, info, user, attributes: requestAttributes(method, target, info, user) };
    // As Kubernetes' authorization filter: only an explicit allow lets a request through.
    if (await opts.authorize.authorize(r.attributes) !== 'allow') throw forbidden(r.attributes);
    return { r, release: opts.inFlight?.(r) };
  }

  function logInternal(req: IncomingMessage, err: unknown): void {
    if (err instanceof ApiError && err.http < 500) return;
    if (err instanceof ApiError && err.code !== 'BERTH_INTERNAL') return;
    opts.log.error('internal error serving a request', {
      method: req.method, url: req.url?.slice(0, 2048), remote: req.socket.remoteAddress, userAgent: req.headers['user-agent'],
      error: (err as Error)?.stack ?? String(err),
    });
  }

  return {
    async serve(req, res) {
      let release: (() => void) | undefined;
      const startedAt = performance.now();
      try {
        const admitted = await admit(req);
        release = admitted.release;
        const { r } = admitted;
        observeRequest(req, res, r.info, startedAt, r.target.query);
        if (release) res.once('close', release);
        const path = r.target.path;
        const exact = opts.routes.exactMatch(path);
        if (exact && RouteTable.allows(exact, req.method ?? 'GET')) return await exact.handle(r, res);
        if (r.info) return await opts.resource(r as ApiRequest & { info: RequestInfo }, res);
        const route = exact ?? opts.routes.prefixMatch(path);
        if (!route) throw errors.notFound('', 'path', path);
        if (!RouteTable.allows(route, req.method ?? 'GET')) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
        await route.handle(r, res);
      } catch (err) {
        logInternal(req, err);
        sendError(res, err);
      }
    },
    async serveUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      let release: (() => void) | undefined;
      try {
        const admitted = await admit(req);
        release = admitted.release;
        if (release) socket.once('close', release);
        await opts.upgrade(admitted.r, socket, head);
      } catch (err) {
        logInternal(req, err);
        writeUpgradeError(socket, err);
      }
    },
  };
}
