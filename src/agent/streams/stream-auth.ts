/**
 * Who may use the agent's stream server (the kubelet's server/auth.go): a caller is authenticated by
 * a client certificate the cluster CA signed (CN = user, O = groups; the kubelet's x509 client-ca
 * authenticator) and authorized for the verb on `nodes/proxy` of this node — the subresource the
 * kubelet maps /exec, /attach, /portForward and /containerLogs to. The API server's own client
 * certificate (kube-apiserver's --kubelet-client-certificate, in system:masters) passes at once;
 * anyone else is asked of the API server with a SubjectAccessReview by the caller of this module.
 *
 *   no verified certificate ─▶ 401 Unauthorized
 *   certificate, not authorized ─▶ 403 Forbidden (user=…, verb=…, resource=nodes, subresource=proxy)
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError } from '../../errors/index.ts';

/** A caller as its certificate names it. */
export interface StreamCaller {
  name: string;
  groups: string[];
}

/** What the caller asks to do, as a kubelet authorizes it. */
export interface StreamAttributes {
  /** get, create, update, patch, delete — from the HTTP method. */
  verb: string;
  resource: 'nodes';
  /** proxy (streams), metrics (/metrics…) or stats (/stats/…), as the kubelet maps its paths. */
  subresource: 'proxy' | 'metrics' | 'stats';
  /** This node's name. */
  name: string;
}

/** Decides for callers that are not in system:masters (a SubjectAccessReview in the agent). */
export type StreamAuthorizer = (caller: StreamCaller, a: StreamAttributes) => Promise<boolean>;

const VERBS: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** The caller of a TLS request, or undefined without a certificate the CA verified. */
export function streamCaller(req: IncomingMessage): StreamCaller | undefined {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const subject = socket.getPeerCertificate()?.subject;
  const cn = subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = subject.O;
  return { name, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
}

/** Authenticates and authorizes a request; throws the 401 or 403 Status the kubelet would answer. */
export async function checkStreamAccess(req: IncomingMessage, nodeName: string, authorize: StreamAuthorizer | undefined, subresource: StreamAttributes['subresource'] = 'proxy'): Promise<void> {
  const caller = streamCaller(req);
  if (!caller) throw new ApiError('BERTH_UNAUTHORIZED', 'Unauthorized');
  if (caller.groups.includes('system:masters')) return;
  const a: StreamAttributes = { verb: VERBS[req.method ?? 'GET'] ?? (req.method ?? '').toLowerCase(), resource: 'nodes', subresource, name: nodeName };
  const allowed = authorize ? await authorize(caller, a).catch(() => false) : false;
  if (!allowed) {
    throw new ApiError('BERTH_FORBIDDEN', `Forbidden (user=${caller.name}, verb=${a.verb}, resource=${a.resource}, subresource=${a.subresource})`);
  }
}
