/**
 * The API server's security, composed from its parts (kube-apiserver's authentication and
 * authorization configuration and admission plugin list):
 *
 *   authentication: client certificate ─▶ each part's bearer-token authenticators ─▶ anonymous (health paths, the UI's static shell) ─▶ 401
 *   authorization:  system:masters ─▶ each part's authorizers in order ─▶ 403
 *   admission:      each part's plugins, in order, on every write
 *
 * A part is one line in PARTS; see security-part.ts for what it may contribute.
 */
import { ANONYMOUS_PATHS, ANONYMOUS_PREFIXES, isAnonymousPath, requestAuthenticator } from '../../auth/authn/authenticator.ts';
import type { Attributes, Authorizer, Decision, UserInfo } from '../../auth/attributes.ts';
import { AdmissionChain } from '../../registry/admission/admission.ts';
import type { IncomingMessage } from 'node:http';
import type { SecurityContext, SecurityPart, Stoppable } from './security-part.ts';
import { nodePart } from './parts/node.ts';
import { podSecurityPart } from './parts/pod-security.ts';
import { rbacPart } from './parts/rbac.ts';
import { serviceAccountsPart } from './parts/service-accounts.ts';

/** Every part, in chain order. */
export const PARTS: readonly SecurityPart[] = [
  serviceAccountsPart,
  nodePart,
  rbacPart,
  podSecurityPart,
];

/** The group whose members may do anything, never asked of an authorizer (kube-apiserver's privileged group). */
export const PRIVILEGED_GROUP = 'system:masters';

/**
 * The first authorizer with an opinion decides; none: denied. Members of system:masters and GETs of
 * the health and version paths are allowed before any authorizer is asked (kube-apiserver's
 * privileged group; --authorization-always-allow-paths, which RBAC's public-info-viewer role also grants).
 */
export function authorizerChain(authorizers: readonly Authorizer[]): Authorizer {
  return {
    async authorize(a: Attributes): Promise<Decision> {
      if (a.user.groups.includes(PRIVILEGED_GROUP)) return 'allow';
      if (!a.isResourceRequest && (a.verb === 'get' || a.verb === 'head') && isAnonymousPath(a.path)) return 'allow';
      for (const z of authorizers) {
        const d = await z.authorize(a);
        if (d !== 'no-opinion') return d;
      }
      return 'no-opinion';
    },
  };
}

export interface Security {
  authenticate(req: IncomingMessage, path: string): Promise<UserInfo>;
  authorizer: Authorizer;
  admission: AdmissionChain;
  /** Starts the parts' work (after the server listens) and the shared informers. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function buildSecurity(ctx: SecurityContext, parts: readonly SecurityPart[] = PARTS): Security {
  const tokens = parts.flatMap((p) => p.tokenAuthenticators?.(ctx) ?? []);
  ctx.tokenAuthenticators = tokens;
  const authenticate = requestAuthenticator({ clientCertificates: true, tokens, anonymousPaths: ANONYMOUS_PATHS, anonymousPrefixes: ANONYMOUS_PREFIXES });
  const authorizer = authorizerChain(parts.flatMap((p) => p.authorizers?.(ctx) ?? []));
  ctx.authorizer = authorizer;
  const admission = new AdmissionChain(parts.flatMap((p) => p.admission?.(ctx) ?? []));
  let running: Stoppable[] = [];
  return {
    authenticate, authorizer, admission,
    async start() {
      const starting = parts.map((p) => p.start?.(ctx));
      ctx.informers.start();
      running = (await Promise.all(starting)).filter((s): s is Stoppable => !!s);
    },
    async stop() {
      await Promise.all(running.map((s) => s.stop()));
      ctx.informers.stop();
    },
  };
}
