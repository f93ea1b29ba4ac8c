/**
 * POST serviceaccounts/NAME/token: a TokenRequest answered with a signed, bound ServiceAccount
 * token, never stored (pkg/registry/core/serviceaccount/storage/token.go with the TokenRequest
 * validation of pkg/apis/authentication/validation): audiences default to the API server's,
 * expirationSeconds to 3600 (at least 600, at most 2^32); a boundObjectRef names a Pod (which must
 * run as this ServiceAccount; its node goes into the token) or a Secret of the namespace, and its uid
 * is checked when given. Shared by the HTTP handler and the in-process client (ResourceStore's
 * createSubresources), so the agent asks for its pods' tokens the same way in `berth up` and over HTTP.
 */
import type { KubeObject } from '../apis/object.ts';
import { fieldError, type FieldError } from '../apis/field-errors.ts';
import { rfc3339 } from '../apis/time.ts';
import { errors } from '../errors/index.ts';
import type { ObjectRef } from '../auth/authn/service-account-token.ts';
import { checkTypeMeta } from './pod-subresources.ts';
import type { Registry } from './registry.ts';
import type { SubresourceCreate, WriteOptions } from './resource-store.ts';

export const TOKEN_REQUEST = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest' } as const;
const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

/** What signs the token (auth/authn's TokenSigner). */
export interface BoundTokenSigner {
  bound(r: { namespace: string; serviceAccount: ObjectRef; audiences: string[]; expirationSeconds: number; pod?: ObjectRef; secret?: ObjectRef; node?: ObjectRef }): Promise<{ token: string; expiresAt: Date }>;
}

export interface TokenRequestOptions {
  registry: Registry;
  signer: BoundTokenSigner;
  /** The API server's audiences, the default of spec.audiences. */
  apiAudiences: readonly string[];
}

function validate(spec: Record<string, any>): FieldError[] {
  const errs: FieldError[] = [];
  const exp = spec.expirationSeconds;
  if (!Number.isInteger(exp)) errs.push(fieldError.invalid('spec.expirationSeconds', exp, 'must be an integer'));
  else if (exp < MIN_EXPIRATION_SECONDS) errs.push(fieldError.invalid('spec.expirationSeconds', exp, 'may not specify a duration less than 10 minutes'));
  else if (exp > MAX_EXPIRATION_SECONDS) errs.push(fieldError.invalid('spec.expirationSeconds', exp, 'may not specify a duration larger than 2^32 seconds'));
  if (!Array.isArray(spec.audiences) || spec.audiences.some((a: unknown) => typeof a !== 'string')) errs.push(fieldError.invalid('spec.audiences', spec.audiences, 'must be a list of strings'));
  const ref = spec.boundObjectRef;
  if (ref !== undefined && ref !== null && (typeof ref !== 'object' || Array.isArray(ref))) errs.push(fieldError.invalid('spec.boundObjectRef', ref, 'must be an object'));
  return errs;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The subresource, for `registry.store('', 'serviceaccounts').createSubresources.token`. */
export function tokenRequestSubresource(opts: TokenRequestOptions): SubresourceCreate {
  const get = (plural: string, ns: string | undefined, name: string) => opts.registry.store('', plural)!.get(ns, name);
  return {
    ...TOKEN_REQUEST,
    async create(namespace: string | undefined, name: string, body: KubeObject, wo: WriteOptions): Promise<KubeObject> {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw errors.badRequest('the request body must be a TokenRequest object');
      checkTypeMeta(body, TOKEN_REQUEST.apiVersion, TOKEN_REQUEST.kind);
      const given = body.spec && typeof body.spec === 'object' && !Array.isArray(body.spec) ? body.spec : {};
      const spec: Record<string, any> = {
        ...given,
        audiences: given.audiences?.length ? given.audiences : [...opts.apiAudiences],
        expirationSeconds: given.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS,
      };
      const errs = validate(spec);
      if (errs.length) throw errors.invalid('authentication.k8s.io', 'TokenRequest', name, errs);
      const sa = await get('serviceaccounts', namespace, name);
      let pod: ObjectRef | undefined;
      let secret: ObjectRef | undefined;
      let node: ObjectRef | undefined;
      const ref = spec.boundObjectRef as Record<string, unknown> | undefined;
      if (ref) {
        const apiVersion = str(ref.apiVersion);
        const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
        const kind = str(ref.kind);
        const refName = str(ref.name);
        let uid: string;
        if (group === '' && kind === 'Pod') {
          const p = await get('pods', namespace, refName);
          if (p.spec?.serviceAccountName !== name) throw errors.badRequest(`cannot bind token for serviceaccount "${name}" to pod running with serviceaccount "${p.spec?.serviceAccountName ?? ''}"`);
          uid = p.metadata.uid!;
          pod = { name: refName, uid };
          // The node the pod runs on goes into the token, as Kubernetes 1.30+ does (ServiceAccountTokenPodNodeInfo).
          const nodeName = p.spec?.nodeName;
          if (nodeName) {
            const n = await opts.registry.store('', 'nodes')!.get(undefined, nodeName).catch(() => undefined);
            if (n) node = { name: nodeName, uid: n.metadata.uid! };
          }
        } else if (group === '' && kind === 'Secret') {
          const s = await get('secrets', namespace, refName);
          uid = s.metadata.uid!;
          secret = { name: refName, uid };
        } else {
          throw errors.badRequest(`cannot bind token to object of type ${group ? `${apiVersion}, Kind=${kind}` : `/${apiVersion}, Kind=${kind}`}`);
        }
        if (ref.uid && ref.uid !== uid) {
          throw errors.conflict(group, kind, refName, `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`);
        }
        spec.boundObjectRef = { ...ref, uid };
      }
      const out: KubeObject = {
        apiVersion: TOKEN_REQUEST.apiVersion, kind: TOKEN_REQUEST.kind,
        metadata: { name, namespace, creationTimestamp: null as unknown as string },
        spec,
        status: { token: '', expirationTimestamp: rfc3339(Date.now() + spec.expirationSeconds * 1000) },
      };
      // A dry run checks everything, signs nothing.
      if (wo.dryRun) return out;
      const { token, expiresAt } = await opts.signer.bound({
        namespace: namespace!, serviceAccount: { name, uid: sa.metadata.uid! }, audiences: spec.audiences,
        expirationSeconds: spec.expirationSeconds, pod, secret, node,
      });
      out.status = { token, expirationTimestamp: rfc3339(expiresAt) };
      return out;
    },
  };
}
