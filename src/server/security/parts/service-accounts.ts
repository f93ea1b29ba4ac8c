/**
 * The security part for ServiceAccounts and in-cluster access (kube-apiserver's service account
 * token authenticator and TokenRequest storage, the authentication.k8s.io reviews, the
 * ServiceAccount admission plugin and the `kubernetes` Service endpoints):
 *
 *   DATA/pki/sa.key ─▶ TokenSigner ─▶ serviceaccounts/NAME/token (TokenRequest, never stored)
 *   DATA/pki/sa.pub ─▶ token authenticator (JWT + live ServiceAccount / pod / Secret from informers)
 *   reviews: TokenReview (every part's token authenticators), SelfSubjectReview (ResourceStore.compute)
 *   admission: ServiceAccount (default SA, must exist, kube-api-access-* projected volume)
 *   start: default/kubernetes Service + Endpoints/EndpointSlice of the live API servers
 */
import type { KubeObject } from '../../../apis/object.ts';
import { ServiceAccountTokenAuthenticator } from '../../../auth/authn/service-account-authenticator.ts';
import { DEFAULT_ISSUER, serviceAccountKeys, TokenSigner } from '../../../auth/authn/service-account-token.ts';
import { R, type ResourceRef } from '../../../client/client.ts';
import type { SharedInformer } from '../../../client/informer.ts';
import { ApiError } from '../../../errors/index.ts';
import { serviceAccountAdmission } from '../../../registry/admission/service-account.ts';
import { selfSubjectReview, tokenReview } from '../../../registry/authentication-reviews.ts';
import { tokenRequestSubresource } from '../../../registry/token-request.ts';
import { KubernetesServiceReconciler } from '../../kubernetes-service.ts';
import type { SecurityContext, SecurityPart } from '../security-part.ts';

const SERVICE_ACCOUNTS: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };

/** What one server's part holds (a process may run several servers: tests). */
interface State {
  signer: TokenSigner;
  authenticator: ServiceAccountTokenAuthenticator;
  serviceAccounts: SharedInformer;
  apiAudiences: string[];
}

const states = new WeakMap<SecurityContext, State>();

/** A cached object, else the store's (a cache that has not caught up must not refuse a fresh object). */
function cachedThenStored(ctx: SecurityContext, informer: SharedInformer | undefined, plural: string) {
  return async (namespace: string, name: string): Promise<KubeObject | undefined> => {
    const hit = informer?.get(`${namespace}/${name}`);
    if (hit) return hit;
    try {
      return await ctx.registry.store('', plural)!.get(namespace, name);
    } catch (err) {
      if (err instanceof ApiError && err.http === 404) return undefined;
      throw err;
    }
  };
}

function stateOf(ctx: SecurityContext): State {
  let s = states.get(ctx);
  if (s) return s;
  const keys = serviceAccountKeys(ctx.pki.serviceAccountKey.key, ctx.pki.serviceAccountKey.pub);
  const apiAudiences = [DEFAULT_ISSUER];
  const serviceAccounts = ctx.informers.forResource(SERVICE_ACCOUNTS);
  const pods = ctx.informers.forResource(R.pods);
  const authenticator = new ServiceAccountTokenAuthenticator({
    keys, issuers: [DEFAULT_ISSUER], apiAudiences,
    objects: {
      serviceAccount: cachedThenStored(ctx, serviceAccounts, 'serviceaccounts'),
      pod: cachedThenStored(ctx, pods, 'pods'),
      // Legacy and Secret-bound tokens are rare: no cache of every Secret for them.
      secret: cachedThenStored(ctx, undefined, 'secrets'),
    },
  });
  s = { signer: new TokenSigner(keys, DEFAULT_ISSUER), authenticator, serviceAccounts, apiAudiences };
  states.set(ctx, s);
  return s;
}

/** serviceaccounts/token and the two reviews, computed on create from the registry's stores. */
function installApis(ctx: SecurityContext, s: State): void {
  const store = (group: string, plural: string) => {
    const st = ctx.registry.store(group, plural);
    if (!st) throw new Error(`${group || 'core'}/${plural} is not served`);
    return st;
  };
  store('', 'serviceaccounts').createSubresources.token = tokenRequestSubresource({ registry: ctx.registry, signer: s.signer, apiAudiences: s.apiAudiences });
  store('authentication.k8s.io', 'tokenreviews').compute = tokenReview({
    // Every part's, as a request would be authenticated; set by buildSecurity right after this call.
    authenticators: () => ctx.tokenAuthenticators ?? [s.authenticator],
    apiAudiences: s.apiAudiences,
  });
  store('authentication.k8s.io', 'selfsubjectreviews').compute = selfSubjectReview();
}

export const serviceAccountsPart: SecurityPart = {
  name: 'service-accounts',
  tokenAuthenticators(ctx) {
    const s = stateOf(ctx);
    installApis(ctx, s);
    return [s.authenticator];
  },
  admission(ctx) {
    const s = stateOf(ctx);
    return [serviceAccountAdmission({
      lookup: {
        cached: (ns, name) => s.serviceAccounts.get(`${ns}/${name}`),
        live: cachedThenStored(ctx, undefined, 'serviceaccounts'),
      },
    })];
  },
  async start(ctx) {
    const reconciler = new KubernetesServiceReconciler({
      client: ctx.client, serviceCidr: ctx.serviceCidr, address: ctx.advertiseAddress, port: ctx.port,
      log: ctx.log.child({ part: 'kubernetes-service' }),
    });
    await reconciler.start();
    return reconciler;
  },
};
