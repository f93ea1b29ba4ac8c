/**
 * The authentication.k8s.io/v1 reviews, computed on create and never stored (ResourceStore.compute):
 *
 *   TokenReview        (pkg/registry/authentication/tokenreview): is this bearer token someone? Runs
 *                      the API server's token authenticators with spec.audiences (default: the API
 *                      server's own) and answers status.authenticated, user, audiences or error.
 *   SelfSubjectReview  (pkg/registry/authentication/selfsubjectreview): who am I — the requester's
 *                      own user, as `kubectl auth whoami` prints it.
 */
import type { KubeObject } from '../apis/object.ts';
import { rfc3339 } from '../apis/time.ts';
import { ApiError, errors } from '../errors/index.ts';
import type { UserInfo } from '../auth/attributes.ts';
import { authenticated, TokenRejected, type TokenAuthenticator } from '../auth/authn/authenticator.ts';
import { checkTypeMeta } from './pod-subresources.ts';
import { SYSTEM_USER } from './admission/admission.ts';
import type { WriteOptions } from './resource-store.ts';

const API_VERSION = 'authentication.k8s.io/v1';

/** user.Info as authentication.k8s.io's UserInfo (username, not name; extra only when there is some). */
export function userInfoJson(u: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: u.name, groups: [...u.groups] };
  if (u.uid) out.uid = u.uid;
  if (u.extra && Object.keys(u.extra).length) out.extra = structuredClone(u.extra);
  return out;
}

function checkBody(obj: KubeObject, kind: string): void {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw errors.badRequest(`the request body must be a ${kind} object`);
  checkTypeMeta(obj, API_VERSION, kind);
}

export interface TokenReviewOptions {
  /** Every token authenticator of the API server, in chain order. */
  authenticators: () => readonly TokenAuthenticator[];
  /** The API server's audiences (--api-audiences). */
  apiAudiences: readonly string[];
}

/** TokenReview's compute; see the file comment. */
export function tokenReview(opts: TokenReviewOptions): (namespace: string | undefined, obj: KubeObject, wo: WriteOptions) => Promise<KubeObject> {
  return async (_ns, obj) => {
    checkBody(obj, 'TokenReview');
    const spec = obj.spec && typeof obj.spec === 'object' && !Array.isArray(obj.spec) ? obj.spec : {};
    if (typeof spec.token !== 'string' || spec.token === '') throw errors.badRequest('token is required for TokenReview in authentication');
    const given = Array.isArray(spec.audiences) ? spec.audiences.filter((a: unknown): a is string => typeof a === 'string') : [];
    const audiences: readonly string[] = given.length ? given : opts.apiAudiences;
    const status: Record<string, unknown> = { authenticated: false, user: {} };
    for (const a of opts.authenticators()) {
      try {
        let user: UserInfo | undefined;
        let matched: string[] = [];
        if (a.authenticateTokenFor) {
          const r = await a.authenticateTokenFor(spec.token, audiences);
          user = r?.user;
          matched = r?.audiences ?? [];
        } else {
          // Audience-agnostic authenticators are valid for the API server's audiences only.
          matched = audiences.filter((x) => opts.apiAudiences.includes(x));
          if (matched.length) user = await a.authenticateToken(spec.token);
        }
        if (!user) continue;
        status.authenticated = true;
        status.user = userInfoJson(authenticated(user));
        status.audiences = matched;
        break;
      } catch (err) {
        // The token is of this authenticator's kind but does not hold: what a review reports.
        if (err instanceof TokenRejected) { status.error = err.why; break; }
        if (err instanceof ApiError && err.http === 401) { status.error = err.message; break; }
        throw err;
      }
    }
    return { apiVersion: API_VERSION, kind: 'TokenReview', metadata: { ...(obj.metadata ?? {}), creationTimestamp: null as unknown as string }, spec, status };
  };
}

/** SelfSubjectReview's compute: the user who asks (no user: Berth itself). */
export function selfSubjectReview(): (namespace: string | undefined, obj: KubeObject, wo: WriteOptions) => Promise<KubeObject> {
  return async (_ns, obj, wo) => {
    checkBody(obj, 'SelfSubjectReview');
    return {
      apiVersion: API_VERSION, kind: 'SelfSubjectReview',
      metadata: { creationTimestamp: rfc3339() },
      status: { userInfo: userInfoJson(wo.user ?? SYSTEM_USER) },
    };
  };
}
