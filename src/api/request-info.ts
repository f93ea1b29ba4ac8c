/**
 * Parses a resource URL the way Kubernetes' RequestInfoFactory does:
 *   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
 *   /apis/{group}/{version}/{resource}/{name}/{subresource}
 * plus the legacy `/watch/` prefix, from the decoded segments of request-target.ts. Non-resource
 * paths (discovery, /version, /healthz …) return undefined.
 */
export interface RequestInfo {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, parts: readonly string[], query: URLSearchParams): RequestInfo | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  let watchPrefix = false;
  if (rest[0] === 'watch') { watchPrefix = true; rest = rest.slice(1); }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
    else namespace = undefined; // the namespace object itself (and its status/finalize)
  }
  // `…/{name}/proxy/{path…}`: the path belongs to the proxied request (nodes, pods, services).
  if (rest.length > 3 && rest[2] === 'proxy') rest = rest.slice(0, 3);
  if (rest.length === 0 || rest.length > 3) return undefined;
  const [resource, name, subresource] = rest;
  const isWatch = watchPrefix || query.get('watch') === 'true' || query.get('watch') === '1';
  let verb: RequestInfo['verb'];
  switch (method) {
    case 'GET': case 'HEAD': verb = name ? (isWatch ? 'watch' : 'get') : (isWatch ? 'watch' : 'list'); break;
    case 'POST': verb = 'create'; break;
    case 'PUT': verb = 'update'; break;
    case 'PATCH': verb = 'patch'; break;
    case 'DELETE': verb = name ? 'delete' : 'deletecollection'; break;
    default: return undefined;
  }
  return { group, version, namespace, resource, name, subresource, verb };
}
