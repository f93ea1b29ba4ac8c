/**
 * Who is asking and what for: the user (k8s.io/apiserver/pkg/authentication/user.Info), the
 * request's attributes (authorizer.Attributes) and the two hooks the handler chain calls before any
 * handler — authentication, then authorization. Until Berth has either, the defaults take every
 * request as the anonymous user and allow it; a real authenticator or authorizer replaces them
 * through ApiServerOptions.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors/index.ts';
import type { RequestInfo } from './request-info.ts';
import type { RequestTarget } from './request-target.ts';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What an authorizer decides on, named as Kubernetes' authorizer.Attributes. */
export interface RequestAttributes {
  user: UserInfo;
  /** API verb for resource requests (get, list, watch, create …); lower-cased HTTP method otherwise. */
  verb: string;
  isResourceRequest: boolean;
  /** The decoded request path. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** Resolves the user of a request; throws an ApiError (401) to refuse it. */
export type Authenticator = (req: IncomingMessage) => UserInfo | Promise<UserInfo>;

export interface Decision {
  allowed: boolean;
  /** Why not, appended to the 403 message. */
  reason?: string;
}

/** Decides whether the user may do what the attributes say. */
export type Authorizer = (attributes: RequestAttributes) => Decision | Promise<Decision>;

/** Kubernetes' anonymous user, what every request is until an authenticator is configured. */
export const ANONYMOUS: UserInfo = Object.freeze({ name: 'system:anonymous', groups: ['system:unauthenticated'] }) as UserInfo;

export const anonymousAuthenticator: Authenticator = () => ANONYMOUS;
export const allowAllAuthorizer: Authorizer = () => ({ allowed: true });

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
