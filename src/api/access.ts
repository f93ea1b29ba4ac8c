/**
 * The handler chain's two hooks before any handler — authentication, then authorization — with
 * the request's attributes built as kube-apiserver's RequestInfo filter builds them. The types are
 * auth/'s (user.Info, authorizer.Attributes, Authorizer). Until Berth has either, the defaults take
 * every request as the anonymous user and allow it; ApiServerOptions replaces them.
 */
import type { IncomingMessage } from 'node:http';
import { ANONYMOUS, type Attributes, type Authorizer, type UserInfo } from '../auth/attributes.ts';
import type { RequestInfo } from './request-info.ts';
import type { RequestTarget } from './request-target.ts';

export { ANONYMOUS };
export { forbidden } from '../auth/forbidden.ts';
export type { Authorizer, UserInfo };
/** What an authorizer decides on (auth/attributes.ts: Kubernetes' authorizer.Attributes). */
export type RequestAttributes = Attributes;

/** Resolves the user of a request (`path`: its decoded path); throws an ApiError (401) to refuse it. */
export type Authenticator = (req: IncomingMessage, path: string) => UserInfo | Promise<UserInfo>;

/** Every request is the anonymous user until an authenticator is configured. */
export const anonymousAuthenticator: Authenticator = () => ANONYMOUS;
/** Until an authorizer is configured, everything is allowed. */
export const allowAllAuthorizer: Authorizer = { authorize: () => 'allow' };

export function requestAttributes(method: string, target: RequestTarget, info: RequestInfo | undefined, user: UserInfo): RequestAttributes {
  return {
    user,
    verb: info?.verb ?? method.toLowerCase(),
    isResourceRequest: info !== undefined,
    path: target.path,
    apiGroup: info?.group ?? '',
    apiVersion: info?.version ?? '',
    resource: info?.resource ?? '',
    subresource: info?.subresource ?? '',
    namespace: info?.namespace ?? '',
    name: info?.name ?? '',
    ...(info && (info.verb === 'list' || info.verb === 'watch') && target.query.has('fieldSelector') ? { fieldSelector: target.query.get('fieldSelector')! } : {}),
  };
}
