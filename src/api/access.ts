/**
 * The handler chain's two hooks before any handler — authentication, then authorization — with
 * the request's attributes built as kube-apiserver's RequestInfo filter builds them. The types are
 * auth/'s (user.Info, authorizer.Attributes, Authorizer). Until Berth has either, the defaults take
 * every request as the anonymous user and allow it; ApiServerOptions replaces them.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors/index.ts';
import { ANONYMOUS, type Attributes, type Authorizer, type UserInfo } from '../auth/attributes.ts';
import type { RequestInfo } from './request-info.ts';
import type { RequestTarget } from './request-target.ts';

export { ANONYMOUS };
export type { Authorizer, UserInfo };
/** What an authorizer decides on (auth/attributes.ts: Kubernetes' authorizer.Attributes). */
export type RequestAttributes = Attributes;

/** Resolves the user of a request; throws an ApiError (401) to refuse it. */
export type Authenticator = (req: IncomingMessage) => UserInfo | Promise<UserInfo>;

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
  };
}

/** The 403 of a refused request, worded as kube-apiserver's responsewriters.Forbidden. */
export function forbidden(a: RequestAttributes, reason = ''): ApiError {
  let msg: string;
  if (!a.isResourceRequest) {
    msg = `User "${a.user.name}" cannot ${a.verb} path "${a.path}"`;
  } else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    msg = `User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}"`;
    msg += a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  }
  if (reason) msg += `: ${reason}`;
  const what = a.isResourceRequest ? `${a.resource}${a.apiGroup ? `.${a.apiGroup}` : ''}${a.name ? ` "${a.name}"` : ''}` : '';
  return new ApiError('BERTH_FORBIDDEN', what ? `${what} is forbidden: ${msg}` : `forbidden: ${msg}`, {
    name: a.name || undefined, group: a.apiGroup || undefined, kind: a.resource || undefined,
  });
}
