/**
 * Who is asking and what for — k8s.io/apiserver's user.Info and authorizer.Attributes. Authentication
 * produces a UserInfo; the request-info step produces the rest; authorizers decide on the whole.
 */

/** An authenticated (or anonymous) user. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  /** Extra attributes, e.g. `authentication.kubernetes.io/pod-name` for bound ServiceAccount tokens. */
  extra?: Record<string, string[]>;
}

/** One request as an authorizer sees it. */
export interface Attributes {
  user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection; for non-resource requests the lower-case HTTP method; also impersonate, bind, escalate, use… */
  verb: string;
  isResourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** list and watch: the request's `fieldSelector`, raw (the Node authorizer allows a node's pods by `spec.nodeName=<node>`). */
  fieldSelector?: string;
}

export type Decision = 'allow' | 'deny' | 'no-opinion';

/** One authorizer of the chain (Node, RBAC): the first that allows or denies decides. */
export interface Authorizer {
  authorize(a: Attributes): Decision | Promise<Decision>;
}

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** `system:serviceaccount:<ns>:<name>`, the user name of a ServiceAccount. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}
