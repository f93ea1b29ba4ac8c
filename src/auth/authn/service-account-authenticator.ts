/**
 * The ServiceAccount token authenticator (kube-apiserver's JWT token authenticator with the
 * serviceaccount validators, pkg/serviceaccount/jwt.go, claims.go, legacy.go): a JWT from one of our
 * issuers is verified (signature, expiry, audience), then held against the objects it names — the
 * ServiceAccount (same uid), and the pod or Secret it is bound to (same uid, not deleted) — so a
 * token stops working when what it was issued for goes. A legacy Secret token must still be the
 * Secret's `data.token`.
 *
 *   token ─ not a JWT / other issuer ─▶ undefined (the next authenticator tries)
 *         ─ signature, time, audience, objects ─ fail ─▶ InvalidTokenError (401)
 *         ─▶ system:serviceaccount:<ns>:<name>, groups system:serviceaccounts[:<ns>], extra pod-name/uid, credential-id
 */
import type { KubeObject } from '../../apis/object.ts';
import type { UserInfo } from '../attributes.ts';
import { TokenRejected, type TokenAuthenticator, type TokenAuthentication } from './authenticator.ts';
import {
  DEFAULT_ISSUER, InvalidTokenError, LEGACY_ISSUER, unverifiedIssuer, verifyServiceAccountToken,
  type ServiceAccountClaims, type ServiceAccountKeys,
} from './service-account-token.ts';

/** user.Info extra keys Kubernetes sets for bound tokens (pkg/serviceaccount/util.go). */
export const EXTRA = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUID: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUID: 'authentication.kubernetes.io/node-uid',
  credentialID: 'authentication.kubernetes.io/credential-id',
} as const;

/** Reads the objects tokens name (usually informer caches with a fallback to the store). */
export interface TokenObjectGetter {
  serviceAccount(namespace: string, name: string): Promise<KubeObject | undefined>;
  pod(namespace: string, name: string): Promise<KubeObject | undefined>;
  secret(namespace: string, name: string): Promise<KubeObject | undefined>;
}

export interface ServiceAccountAuthenticatorOptions {
  keys: ServiceAccountKeys;
  /** Issuers whose tokens this authenticator verifies (the legacy issuer is always accepted). */
  issuers?: readonly string[];
  /** The API server's own audiences (--api-audiences; default the issuer). */
  apiAudiences?: readonly string[];
  objects: TokenObjectGetter;
  now?: () => Date;
  /** Verified tokens kept (signature checks skipped while cached; objects are checked every time). */
  cacheSize?: number;
}

/** Kubernetes lets a deleted object's tokens work for a minute (invalidIfDeletedBefore). */
const DELETION_GRACE_MS = 60_000;
const CLOCK_LEEWAY_MS = 60_000;

/** The groups of a ServiceAccount user (serviceaccount.MakeGroupNames). */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

export class ServiceAccountTokenAuthenticator implements TokenAuthenticator {
  private readonly issuers: readonly string[];
  readonly apiAudiences: readonly string[];
  private readonly now: () => Date;
  private readonly verified = new Map<string, ServiceAccountClaims>();
  private readonly cacheSize: number;

  constructor(private readonly opts: ServiceAccountAuthenticatorOptions) {
    const issuers = opts.issuers?.length ? opts.issuers : [DEFAULT_ISSUER];
    this.issuers = [...issuers, LEGACY_ISSUER];
    this.apiAudiences = opts.apiAudiences?.length ? opts.apiAudiences : [issuers[0]];
    this.now = opts.now ?? (() => new Date());
    this.cacheSize = opts.cacheSize ?? 4096;
  }

  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    return (await this.authenticateTokenFor(token, this.apiAudiences))?.user;
  }

  /** The token's user and which of `audiences` it is valid for; throws a 401 ApiError when invalid. */
  async authenticateTokenFor(token: string, audiences: readonly string[]): Promise<TokenAuthentication | undefined> {
    const iss = unverifiedIssuer(token);
    if (!iss || !this.issuers.includes(iss)) return undefined;
    try {
      const claims = await this.verify(token);
      const tokenAudiences = claims.legacy ? this.apiAudiences : claims.audiences;
      const matched = audiences.filter((a) => tokenAudiences.includes(a));
      if (!matched.length) throw new InvalidTokenError(`token audiences ${JSON.stringify(tokenAudiences)} is invalid for the target audiences ${JSON.stringify(audiences)}`);
      await this.checkObjects(claims, token);
      return { user: userOf(claims), audiences: matched };
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new TokenRejected(err.why);
      throw err;
    }
  }

  /** Signature and time claims, from the cache when this token was verified before. */
  private async verify(token: string): Promise<ServiceAccountClaims> {
    const now = this.now();
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAt && cached.expiresAt.getTime() + CLOCK_LEEWAY_MS < now.getTime()) {
        this.verified.delete(token);
        throw new InvalidTokenError('service account token has expired');
      }
      return cached;
    }
    const claims = await verifyServiceAccountToken(token, this.opts.keys, this.issuers, now);
    this.verified.set(token, claims);
    if (this.verified.size > this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
    return claims;
  }

  /** The objects the token names must still be the ones it was issued for. */
  private async checkObjects(c: ServiceAccountClaims, token: string): Promise<void> {
    const o = this.opts.objects;
    const deletedBefore = this.now().getTime() - DELETION_GRACE_MS;
    const gone = (obj: KubeObject) => !!obj.metadata.deletionTimestamp && Date.parse(obj.metadata.deletionTimestamp) < deletedBefore;
    if (c.secret) {
      const secret = await o.secret(c.namespace, c.secret.name);
      if (!secret) throw new InvalidTokenError(`secrets "${c.secret.name}" not found`);
      if (gone(secret)) throw new InvalidTokenError(`Token ${c.secret.name} has been invalidated`);
      if (c.legacy) {
        const stored = secret.data?.token ? Buffer.from(String(secret.data.token), 'base64').toString('utf8') : '';
        if (stored !== token) throw new InvalidTokenError("Token does not match server's copy");
      } else if (secret.metadata.uid !== c.secret.uid) {
        throw new InvalidTokenError(`Secret UID (${secret.metadata.uid}) does not match claim (${c.secret.uid})`);
      }
    }
    if (c.pod) {
      const pod = await o.pod(c.namespace, c.pod.name);
      if (!pod) throw new InvalidTokenError(`pods "${c.pod.name}" not found`);
      if (gone(pod)) throw new InvalidTokenError(`Pod ${c.namespace}/${c.pod.name} has been deleted`);
      if (pod.metadata.uid !== c.pod.uid) throw new InvalidTokenError(`Pod UID (${pod.metadata.uid}) does not match claim (${c.pod.uid})`);
    }
    const sa = await o.serviceAccount(c.namespace, c.serviceAccount.name);
    if (!sa) throw new InvalidTokenError(`serviceaccounts "${c.serviceAccount.name}" not found`);
    if (gone(sa)) throw new InvalidTokenError(`ServiceAccount ${c.namespace}/${c.serviceAccount.name} has been deleted`);
    if (sa.metadata.uid !== c.serviceAccount.uid) throw new InvalidTokenError(`ServiceAccount UID (${sa.metadata.uid}) does not match claim (${c.serviceAccount.uid})`);
  }
}

/** The user of a verified token (ServiceAccountInfo.UserInfo). */
function userOf(c: ServiceAccountClaims): UserInfo {
  const extra: Record<string, string[]> = {};
  if (c.pod) {
    extra[EXTRA.podName] = [c.pod.name];
    extra[EXTRA.podUID] = [c.pod.uid];
  }
  if (c.node) {
    extra[EXTRA.nodeName] = [c.node.name];
    extra[EXTRA.nodeUID] = [c.node.uid];
  }
  if (c.id) extra[EXTRA.credentialID] = [`JTI=${c.id}`];
  return {
    name: `system:serviceaccount:${c.namespace}:${c.serviceAccount.name}`,
    uid: c.serviceAccount.uid,
    groups: serviceAccountGroups(c.namespace),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}
