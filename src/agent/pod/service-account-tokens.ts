/**
 * The tokens of projected `serviceAccountToken` volume sources, as the kubelet's token manager
 * (pkg/kubelet/token/token_manager.go) gets them: a TokenRequest for the pod's ServiceAccount, bound
 * to the pod, with the source's audience and expirationSeconds; kept per (pod, ServiceAccount,
 * audience, expiry) and asked for again once 80 % of its life has passed or it is a day old — the
 * pod's volume is rewritten with the new token well before the old one expires.
 */
import type { KubeObject } from '../../apis/object.ts';

/** Requests a token: POST serviceaccounts/NAME/token with a TokenRequest body; resolves to the answer. */
export type TokenRequestFn = (namespace: string, serviceAccount: string, request: KubeObject) => Promise<KubeObject>;

/** A projected volume's serviceAccountToken source. */
export interface TokenSource {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

interface Cached {
  token: string;
  /** When it should be replaced (80 % of its life, at most a day after issue). */
  refreshAt: number;
  expiresAt: number;
}

const MAX_AGE_MS = 24 * 3600_000;
const DEFAULT_EXPIRATION_SECONDS = 3600;

export class ServiceAccountTokens {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly request: TokenRequestFn, private readonly now: () => number = Date.now) {}

  private key(pod: KubeObject, src: TokenSource): string {
    return JSON.stringify([pod.metadata.uid, pod.metadata.namespace, pod.spec?.serviceAccountName ?? 'default', src.audience ?? '', src.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS]);
  }

  /** The token for `src` in `pod`: the kept one while fresh, else a new one. */
  async token(pod: KubeObject, src: TokenSource): Promise<string> {
    const key = this.key(pod, src);
    const hit = this.cache.get(key);
    if (hit && this.now() < hit.refreshAt) return hit.token;
    const ns = pod.metadata.namespace ?? 'default';
    const sa = pod.spec?.serviceAccountName || 'default';
    const expirationSeconds = src.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    try {
      const answer = await this.request(ns, sa, {
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: sa, namespace: ns },
        spec: {
          audiences: src.audience ? [src.audience] : [],
          expirationSeconds,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
        },
      });
      const token = answer.status?.token;
      const expiresAt = Date.parse(answer.status?.expirationTimestamp ?? '');
      if (typeof token !== 'string' || !token || Number.isNaN(expiresAt)) throw new Error('the TokenRequest answer has no token');
      const issuedAt = expiresAt - expirationSeconds * 1000;
      const refreshAt = Math.min(expiresAt - 0.2 * (expiresAt - issuedAt), issuedAt + MAX_AGE_MS);
      this.cache.set(key, { token, refreshAt, expiresAt });
      return token;
    } catch (err) {
      // A token that still works is better than none while the API is away (the kubelet keeps it too).
      if (hit && this.now() < hit.expiresAt) return hit.token;
      throw new Error(`failed to fetch token: ${(err as Error).message}`);
    }
  }

  /** The earliest time one of `pod`'s tokens is due (ms since the epoch), if it has any. */
  nextRefresh(podUid: string): number | undefined {
    let next: number | undefined;
    for (const [key, c] of this.cache) if (JSON.parse(key)[0] === podUid && (next === undefined || c.refreshAt < next)) next = c.refreshAt;
    return next;
  }

  /** Drops the pod's tokens (the pod is gone). */
  forget(podUid: string): void {
    for (const key of [...this.cache.keys()]) if (JSON.parse(key)[0] === podUid) this.cache.delete(key);
  }
}
