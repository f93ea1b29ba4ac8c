/**
 * The verbs a PolicyRule may name. Kubernetes accepts any string, so a typo (`lsit`, `Get`) silently
 * grants nothing; Berth refuses what no authorizer ever asks for, with the list of what it knows:
 * the API verbs (request-info's), the verbs Kubernetes' own checks ask (bind, escalate, impersonate,
 * approve, sign, use, proxy, attest) and the lower-case HTTP methods of non-resource requests.
 */

/** Verbs of resource requests, as the request-info step names them. */
export const API_VERBS: readonly string[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

/** Verbs no request carries, asked by checks of their own (escalation, impersonation, CSR approval, PSP `use`, `nodes/proxy`). */
export const SPECIAL_VERBS: readonly string[] = ['bind', 'escalate', 'impersonate', 'approve', 'sign', 'use', 'proxy', 'attest'];

/** Non-resource requests' verbs: the lower-case HTTP method. */
export const HTTP_VERBS: readonly string[] = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'];

/** Every verb a rule may name, `*` first. */
export const KNOWN_VERBS: readonly string[] = [...new Set(['*', ...API_VERBS, ...SPECIAL_VERBS, ...HTTP_VERBS])];

export function isKnownVerb(v: unknown): boolean {
  return typeof v === 'string' && KNOWN_VERBS.includes(v);
}
