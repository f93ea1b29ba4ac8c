/**
 * Authentication, in the order kube-apiserver's union authenticator applies it: a verified client
 * certificate (x509: CN = user, O = groups), then bearer tokens (each token authenticator in turn:
 * ServiceAccount tokens, bootstrap tokens), then — only for the paths anonymous requests may reach
 * (/healthz, /livez, /readyz, /version: Kubernetes' anonymous-auth conditions) — the anonymous user.
 * Anything else is a 401 Status. Every authenticated user is also in `system:authenticated`.
 *
 *   request ─▶ client certificate? ─▶ Authorization: Bearer? ─▶ anonymous path? ─▶ 401
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError, errors } from '../../errors/index.ts';
import { ANONYMOUS, type UserInfo } from '../attributes.ts';

/** One kind of bearer token. */
export interface TokenAuthenticator {
  /**
   * The token's user; undefined when the token is not of this kind (the next authenticator tries);
   * throws a 401 ApiError when it is of this kind but invalid (expired, revoked, wrongly signed).
   */
  authenticateToken(token: string): Promise<UserInfo | undefined>;
  /**
   * Audience-aware authenticators (ServiceAccount tokens): the user and those of `audiences` the
   * token is valid for — what a TokenReview with spec.audiences asks. Authenticators without it are
   * valid for the API server's own audiences only (Kubernetes' audience-agnostic wrapper).
   */
  authenticateTokenFor?(token: string, audiences: readonly string[]): Promise<TokenAuthentication | undefined>;
}

/** An authenticated token with the audiences it was accepted for (authenticator.Response). */
export interface TokenAuthentication {
  user: UserInfo;
  audiences: string[];
}

/**
 * A 401 for a token of a known kind that does not hold, carrying the reason a TokenReview reports
 * in status.error (kube-apiserver's 401 body says only "Unauthorized").
 */
export class TokenRejected extends ApiError {
  constructor(readonly why: string) {
    super('BERTH_UNAUTHORIZED', 'Unauthorized');
  }
}

export interface RequestAuthenticatorOptions {
  /** Trust client certificates the TLS layer verified against the cluster CA. */
  clientCertificates: boolean;
  tokens: readonly TokenAuthenticator[];
  /** Paths the anonymous user may reach; everything else needs credentials. */
  anonymousPaths: readonly string[];
  /** Path prefixes (ending in `/`) the anonymous user may reach, e.g. the web UI's static shell. */
  anonymousPrefixes?: readonly string[];
}

/** Kubernetes' anonymous-auth conditions of a kubeadm/k3s cluster: the health and version endpoints. */
export const ANONYMOUS_PATHS: readonly string[] = ['/healthz', '/livez', '/readyz', '/version'];

/**
 * The web UI's static shell (src/ui): public as a login page must be — a browser's first GET
 * carries no token. It holds no data: every request the page makes sends the user's token.
 */
export const ANONYMOUS_PREFIXES: readonly string[] = ['/ui/'];

/** Whether the anonymous user may reach `path`: one of `paths`, or below one of `prefixes` (`/ui` itself too). */
export function isAnonymousPath(path: string, paths: readonly string[] = ANONYMOUS_PATHS, prefixes: readonly string[] = ANONYMOUS_PREFIXES): boolean {
  return paths.includes(path) || prefixes.some((p) => path.startsWith(p) || path === p.slice(0, -1));
}

const unauthorized = errors.unauthorized;

/** Adds `system:authenticated`, as every authenticator's result gets it in Kubernetes. */
export function authenticated(user: UserInfo): UserInfo {
  return user.groups.includes('system:authenticated') ? user : { ...user, groups: [...user.groups, 'system:authenticated'] };
}

/**
 * Each connection's certificate user (null: it sent none) and the certificate's end of validity,
 * worked out on its first request: getPeerCertificate() converts the whole certificate to a JS
 * object, ~45 µs — 8 % of a ConfigMap create's server CPU when done per request
 * (bench/api-security.ts). A connection's certificate cannot change once renegotiation is off,
 * which certificateUser turns off as it caches (Go's TLS server, kube-apiserver's, never
 * renegotiates; TLS 1.3 has none at all).
 */
const connectionUsers = new WeakMap<TLSSocket, { user: UserInfo; notAfter: number } | null>();

/** The user of a verified client certificate, or undefined when the request has none. */
export function certificateUser(req: IncomingMessage): UserInfo | undefined {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  let known = connectionUsers.get(socket);
  if (known === undefined) {
    known = peerCertificateUser(socket);
    socket.disableRenegotiation();
    connectionUsers.set(socket, known);
  }
  if (!known) return undefined;
  // As kube-apiserver verifies per request: a certificate that expired on an open connection stops working.
  if (Date.now() > known.notAfter) throw unauthorized();
  return known.user;
}

function peerCertificateUser(socket: TLSSocket): { user: UserInfo; notAfter: number } | null {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return null;
  // A certificate the CA did not sign, or out of its validity: refused, as kube-apiserver does.
  if (!socket.authorized) throw unauthorized();
  const cn = cert.subject.CN;
  const o = cert.subject.O;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) throw unauthorized();
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { user: authenticated({ name, groups }), notAfter: Date.parse(cert.valid_to) };
}

/** kube-apiserver's websocket token protocol: browsers cannot set headers on a WebSocket. */
const WS_TOKEN_PROTOCOL = 'base64url.bearer.authorization.k8s.io.';

/**
 * A bearer token a websocket upgrade carries as the subprotocol `base64url.bearer.authorization.k8s.io.<token>`
 * (Kubernetes' request/websocket authenticator), taken out of the offered protocols so it is never
 * proxied on (to a node agent).
 */
function websocketToken(req: IncomingMessage): string | undefined {
  const offered = req.headers['sec-websocket-protocol'];
  if (!offered || req.headers.upgrade?.toLowerCase() !== 'websocket') return undefined;
  const protocols = offered.split(',').map((p) => p.trim());
  const tokenProtocol = protocols.find((p) => p.startsWith(WS_TOKEN_PROTOCOL));
  if (!tokenProtocol) return undefined;
  const rest = protocols.filter((p) => !p.startsWith(WS_TOKEN_PROTOCOL));
  if (rest.length) req.headers['sec-websocket-protocol'] = rest.join(', ');
  else delete req.headers['sec-websocket-protocol'];
  const token = Buffer.from(tokenProtocol.slice(WS_TOKEN_PROTOCOL.length), 'base64url').toString('utf8');
  if (!token || /\s/.test(token)) throw unauthorized();
  return token;
}

/** The bearer token of a request (`Authorization: Bearer …`, or a websocket's token subprotocol), if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return websocketToken(req);
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw unauthorized();
  return m[1];
}

/** The chain as one function for the API server's handler chain. */
export function requestAuthenticator(opts: RequestAuthenticatorOptions): (req: IncomingMessage, path: string) => Promise<UserInfo> {
  return async (req, path) => {
    if (opts.clientCertificates) {
      const user = certificateUser(req);
      if (user) return user;
    }
    const token = bearerToken(req);
    if (token !== undefined) {
      for (const a of opts.tokens) {
        const user = await a.authenticateToken(token);
        if (user) return authenticated(user);
      }
      throw unauthorized();
    }
    if (isAnonymousPath(path, opts.anonymousPaths, opts.anonymousPrefixes ?? [])) return ANONYMOUS;
    throw unauthorized();
  };
}
