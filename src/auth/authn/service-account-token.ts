/**
 * ServiceAccount tokens as signed JWTs (ES256, jose) — what kube-apiserver's serviceaccount
 * package (pkg/serviceaccount/claims.go, legacy.go, jwt.go) issues and reads:
 *
 *   bound tokens (TokenRequest, projected volumes): iss = the issuer, aud, exp/iat/nbf, jti and the
 *     private claim `kubernetes.io` {namespace, serviceaccount{name,uid}, pod|secret{name,uid}, node?}
 *   legacy tokens (kubernetes.io/service-account-token Secrets): iss `kubernetes/serviceaccount`,
 *     flat `kubernetes.io/serviceaccount/*` claims, no expiry
 *
 * The key id (`kid`) is the unpadded base64url SHA-256 of the public key's DER, as kube-apiserver's
 * keyIDFromPublicKey, so several verification keys can be told apart.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, errors as joseErrors } from 'jose';

/** kube-apiserver's default issuer (--service-account-issuer), also the default API audience. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** The issuer of legacy Secret-based tokens (serviceaccount.LegacyIssuer). */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';

/** A reference to an object a token is bound to. */
export interface ObjectRef {
  name: string;
  uid: string;
}

/** What a token says, bound or legacy, read into one shape. */
export interface ServiceAccountClaims {
  issuer: string;
  legacy: boolean;
  namespace: string;
  serviceAccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  audiences: string[];
  /** Absent for legacy tokens. */
  expiresAt?: Date;
  issuedAt?: Date;
  notBefore?: Date;
  /** The token's id (`jti`), the credential id Kubernetes puts in the user's extra. */
  id?: string;
}

/** The request for a bound token. */
export interface BoundTokenRequest {
  namespace: string;
  serviceAccount: ObjectRef;
  audiences: string[];
  expirationSeconds: number;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
}

/** A token signature or claim set that does not hold: a 401 to the request, a reason for a TokenReview. */
export class InvalidTokenError extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = 'InvalidTokenError';
  }
}

/** The signing key and the keys tokens are verified with (the signing key's public half among them). */
export interface ServiceAccountKeys {
  privateKey: KeyObject;
  publicKeys: KeyObject[];
}

/** Keys from PEM: the signing key (PKCS#8) and one or more public keys (SPKI, concatenated). */
export function serviceAccountKeys(privatePem: string, publicPem: string): ServiceAccountKeys {
  const privateKey = createPrivateKey(privatePem);
  const blocks = publicPem.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  const publicKeys = blocks.map((b) => createPublicKey(b));
  const own = createPublicKey(privateKey);
  if (!publicKeys.some((k) => keyId(k) === keyId(own))) publicKeys.push(own);
  return { privateKey, publicKeys };
}

/** kube-apiserver's key id: unpadded base64url of the SHA-256 of the DER public key. */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** Signs tokens for one issuer (kube-apiserver's TokenGenerator). */
export class TokenSigner {
  private readonly kid: string;

  constructor(private readonly keys: ServiceAccountKeys, readonly issuer = DEFAULT_ISSUER) {
    this.kid = keyId(createPublicKey(keys.privateKey));
  }

  /** A bound token (TokenRequest) and when it expires. */
  async bound(r: BoundTokenRequest, now = new Date()): Promise<{ token: string; expiresAt: Date }> {
    const iat = seconds(now);
    const exp = iat + r.expirationSeconds;
    const k8s: Record<string, unknown> = { namespace: r.namespace, serviceaccount: { ...r.serviceAccount } };
    if (r.pod) k8s.pod = { ...r.pod };
    if (r.secret) k8s.secret = { ...r.secret };
    if (r.node) k8s.node = { ...r.node };
    const token = await new SignJWT({ 'kubernetes.io': k8s })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid })
      .setIssuer(this.issuer)
      .setSubject(subject(r.namespace, r.serviceAccount.name))
      .setAudience(r.audiences)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.keys.privateKey);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** A legacy token for a kubernetes.io/service-account-token Secret (no expiry, no audience). */
  async legacy(namespace: string, serviceAccount: ObjectRef, secretName: string): Promise<string> {
    return new SignJWT({
      'kubernetes.io/serviceaccount/namespace': namespace,
      'kubernetes.io/serviceaccount/secret.name': secretName,
      'kubernetes.io/serviceaccount/service-account.name': serviceAccount.name,
      'kubernetes.io/serviceaccount/service-account.uid': serviceAccount.uid,
    })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid })
      .setIssuer(LEGACY_ISSUER)
      .setSubject(subject(namespace, serviceAccount.name))
      .sign(this.keys.privateKey);
  }
}

function subject(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/**
 * The issuer of a compact JWT without checking anything, or undefined when the string is not a JWT
 * (so the next token authenticator may try it).
 */
export function unverifiedIssuer(token: string): string | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    decodeProtectedHeader(token);
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function ref(v: unknown): ObjectRef | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const name = str(o.name);
  const uid = str(o.uid);
  return name && uid ? { name, uid } : undefined;
}

/**
 * Verifies a token's signature (any of `keys.publicKeys`, ES256 only), issuer and time claims, and
 * reads its claims; throws InvalidTokenError with the reason when it does not hold. Audiences are
 * the caller's to check (they depend on the request).
 */
export async function verifyServiceAccountToken(token: string, keys: ServiceAccountKeys, issuers: readonly string[], now = new Date()): Promise<ServiceAccountClaims> {
  let payload: Record<string, unknown> | undefined;
  let lastError: unknown;
  for (const key of keys.publicKeys) {
    try {
      // exp/nbf are checked by jose against currentDate, with no clock skew allowed beyond a minute (nbf).
      ({ payload } = await jwtVerify(token, key, { algorithms: ['ES256'], issuer: [...issuers], currentDate: now, clockTolerance: 60 }));
      break;
    } catch (err) {
      lastError = err;
      // Another key may have signed it; any other failure is final.
      if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) break;
    }
  }
  if (!payload) throw new InvalidTokenError(reason(lastError));
  const iss = payload.iss as string;
  const sub = str(payload.sub) ?? '';
  if (iss === LEGACY_ISSUER) {
    const namespace = str(payload['kubernetes.io/serviceaccount/namespace']);
    const name = str(payload['kubernetes.io/serviceaccount/service-account.name']);
    const uid = str(payload['kubernetes.io/serviceaccount/service-account.uid']);
    const secretName = str(payload['kubernetes.io/serviceaccount/secret.name']);
    if (!namespace || !name || !uid || !secretName) throw new InvalidTokenError('service account token claims are incomplete');
    if (sub !== subject(namespace, name)) throw new InvalidTokenError('service account token subject does not match its claims');
    return { issuer: iss, legacy: true, namespace, serviceAccount: { name, uid }, secret: { name: secretName, uid: '' }, audiences: [] };
  }
  const k8s = payload['kubernetes.io'] as Record<string, unknown> | undefined;
  const namespace = str(k8s?.namespace);
  const serviceAccount = ref(k8s?.serviceaccount);
  if (!namespace || !serviceAccount) throw new InvalidTokenError('service account token claims are incomplete');
  if (sub !== subject(namespace, serviceAccount.name)) throw new InvalidTokenError('service account token subject does not match its claims');
  if (typeof payload.exp !== 'number') throw new InvalidTokenError('service account token has no expiry');
  const aud = payload.aud;
  const audiences = Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : typeof aud === 'string' ? [aud] : [];
  return {
    issuer: iss, legacy: false, namespace, serviceAccount,
    pod: ref(k8s?.pod), secret: ref(k8s?.secret), node: ref(k8s?.node), audiences,
    expiresAt: new Date(payload.exp * 1000),
    issuedAt: typeof payload.iat === 'number' ? new Date(payload.iat * 1000) : undefined,
    notBefore: typeof payload.nbf === 'number' ? new Date(payload.nbf * 1000) : undefined,
    id: str(payload.jti),
  };
}

/** A jose failure in the words kube-apiserver's TokenReview uses. */
function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'service account token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `service account token is not valid yet or has invalid claims: ${err.message}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'invalid bearer token, service account token signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'invalid bearer token, unexpected signing algorithm';
  return `invalid bearer token, ${(err as Error)?.message ?? 'malformed token'}`;
}
