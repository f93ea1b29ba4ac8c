/**
 * Bootstrap tokens (k8s.io/cluster-bootstrap: token/api, util/tokens, util/secrets): the
 * `<token-id>.<token-secret>` bearer tokens a joining node authenticates with, kept as
 * `bootstrap.kubernetes.io/token` Secrets named `bootstrap-token-<token-id>` in kube-system.
 * Parsing, generating, the Secret a token lives in, and the checks the authenticator and the token
 * cleaner apply to such a Secret (expiry, usage, extra groups).
 */
import { randomInt } from 'node:crypto';
import type { KubeObject } from '../../apis/object.ts';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
/** Where bootstrap token Secrets live (the authenticator looks nowhere else). */
export const BOOTSTRAP_TOKEN_NAMESPACE = 'kube-system';
/** The user of a bootstrap token is `system:bootstrap:<token-id>`. */
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
/** Every bootstrap token's user is in this group. */
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';

/** The Secret's data keys (bootstrapapi's BootstrapToken*Key). */
export const KEY = {
  id: 'token-id',
  secret: 'token-secret',
  expiration: 'expiration',
  description: 'description',
  usageAuthentication: 'usage-bootstrap-authentication',
  usageSigning: 'usage-bootstrap-signing',
  extraGroups: 'auth-extra-groups',
} as const;

const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
/** bootstrapapi.BootstrapGroupPattern: extra groups must be sub-groups of system:bootstrappers. */
const EXTRA_GROUP_RE = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface BootstrapToken {
  id: string;
  secret: string;
}

/** `abcdef.0123456789abcdef` → its parts; undefined when the text is not a bootstrap token. */
export function parseBootstrapToken(token: string): BootstrapToken | undefined {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1], secret: m[2] } : undefined;
}

export function formatBootstrapToken(t: BootstrapToken): string {
  return `${t.id}.${t.secret}`;
}

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** A new random token (kubeadm's GenerateBootstrapToken: 6 + 16 characters of [a-z0-9]). */
export function generateBootstrapToken(): BootstrapToken {
  return { id: randomString(6), secret: randomString(16) };
}

export function bootstrapTokenSecretName(id: string): string {
  return BOOTSTRAP_TOKEN_SECRET_PREFIX + id;
}

export interface BootstrapTokenSecretOptions {
  description?: string;
  /** When the token stops working (absent: never). */
  expiration?: Date;
  /** More groups, each `system:bootstrappers:…`. */
  extraGroups?: string[];
}

/** The kube-system Secret that makes `t` a valid authentication token (kubeadm's token create). */
export function bootstrapTokenSecret(t: BootstrapToken, opts: BootstrapTokenSecretOptions = {}): KubeObject {
  const data: Record<string, string> = {
    [KEY.id]: t.id,
    [KEY.secret]: t.secret,
    [KEY.usageAuthentication]: 'true',
  };
  if (opts.description) data[KEY.description] = opts.description;
  if (opts.expiration) data[KEY.expiration] = opts.expiration.toISOString().replace(/\.\d+Z$/, 'Z');
  if (opts.extraGroups?.length) data[KEY.extraGroups] = opts.extraGroups.join(',');
  return {
    apiVersion: 'v1', kind: 'Secret', type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    metadata: { name: bootstrapTokenSecretName(t.id), namespace: BOOTSTRAP_TOKEN_NAMESPACE },
    stringData: data,
  };
}

/** A data value of a Secret as text ('' when absent or not base64). */
export function secretData(secret: KubeObject, key: string): string {
  const v = secret.data?.[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '';
}

/**
 * When the Secret's token expires: a Date, `undefined` for never, or `'invalid'` for an expiration
 * that does not parse — which counts as expired, as in util/secrets.HasExpired.
 */
export function tokenExpiration(secret: KubeObject): Date | undefined | 'invalid' {
  const raw = secretData(secret, KEY.expiration);
  if (!raw) return undefined;
  // RFC 3339 only: a bare date or another format would parse in JavaScript but not in Go.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(raw)) return 'invalid';
  const t = Date.parse(raw);
  return Number.isNaN(t) ? 'invalid' : new Date(t);
}

export function tokenHasExpired(secret: KubeObject, now = new Date()): boolean {
  const exp = tokenExpiration(secret);
  if (exp === undefined) return false;
  return exp === 'invalid' || now >= exp;
}

/**
 * The groups of the Secret's token: system:bootstrappers plus its valid extra groups, sorted
 * without duplicates; an extra group outside system:bootstrappers:* makes the token unusable
 * (util/secrets.GetGroups), reported as an error.
 */
export function tokenGroups(secret: KubeObject): string[] | Error {
  const groups = new Set([BOOTSTRAPPERS_GROUP]);
  const extra = secretData(secret, KEY.extraGroups);
  if (extra) {
    for (const g of extra.split(',').map((s) => s.trim())) {
      if (!EXTRA_GROUP_RE.test(g)) return new Error(`${JSON.stringify(g)} is not a valid bootstrap group name (must match ${EXTRA_GROUP_RE.source})`);
      groups.add(g);
    }
  }
  return [...groups].sort();
}

/** True for a Secret of the bootstrap token type in kube-system named after its token id. */
export function isBootstrapTokenSecret(secret: KubeObject): boolean {
  return secret.type === BOOTSTRAP_TOKEN_SECRET_TYPE
    && secret.metadata?.namespace === BOOTSTRAP_TOKEN_NAMESPACE
    && (secret.metadata?.name ?? '').startsWith(BOOTSTRAP_TOKEN_SECRET_PREFIX);
}
