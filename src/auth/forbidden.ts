/**
 * The 403 of a request an authorizer refused, worded as kube-apiserver's responsewriters.Forbidden
 * (`pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "x"`):
 * the API server's handler chain and the in-process client answer alike.
 */
import { ApiError } from '../errors/index.ts';
import type { Attributes } from './attributes.ts';

/** The 403 of a refused request, worded as kube-apiserver's responsewriters.Forbidden. */
export function forbidden(a: Attributes, reason = ''): ApiError {
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
