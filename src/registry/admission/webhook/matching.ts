/**
 * Which webhooks a request reaches (k8s.io/apiserver pkg/admission/plugin/webhook/predicates: rules,
 * namespace and object matchers). A webhook is called when one of its rules matches the operation,
 * group, version, resource/subresource and scope, its namespaceSelector matches the namespace's
 * labels (a Namespace is matched by its own labels; other cluster-scoped objects always pass), and its
 * objectSelector matches the object's or the old object's labels.
 *
 * Resources: `pods` (no subresources), `pods/status`, `pods/*`, `*` (every resource, no
 * subresources), `*\/status`, `*\/*`. matchPolicy Equivalent matches a rule whatever version the
 * request came in (Berth serves each built-in resource in one version; a custom resource's versions
 * are the same objects), Exact only the versions listed.
 */
import type { KubeObject } from '../../../apis/object.ts';
import { fromLabelSelectorSpec } from '../../../apis/selectors/label-selector-spec.ts';
import type { AdmissionRequest } from '../admission.ts';

type Rec = Record<string, any>;

const any = (list: unknown, value: string): boolean => Array.isArray(list) && (list.includes('*') || list.includes(value));

function resourceMatches(patterns: unknown, resource: string, subresource: string): boolean {
  if (!Array.isArray(patterns)) return false;
  for (const p of patterns as string[]) {
    const [res, sub = ''] = p.split('/');
    if (p === '*/*') return true;
    if (res !== '*' && res !== resource) continue;
    if (p.includes('/') ? sub === '*' || sub === subresource : subresource === '') return true;
  }
  return false;
}

/** One rule of a webhook against the request. */
export function ruleMatches(rule: Rec, req: Pick<AdmissionRequest, 'operation' | 'resource' | 'subresource'>, matchPolicy: string): boolean {
  if (!any(rule.operations, req.operation)) return false;
  if (!any(rule.apiGroups, req.resource.group)) return false;
  if (matchPolicy === 'Exact' && !any(rule.apiVersions, req.resource.version)) return false;
  if (!resourceMatches(rule.resources, req.resource.plural, req.subresource)) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && req.resource.namespaced) return false;
  if (scope === 'Namespaced' && !req.resource.namespaced) return false;
  return true;
}

function selectorMatches(spec: unknown, labels: Record<string, string> | undefined): boolean {
  // Stored selectors were validated; a broken one matches nothing rather than everything.
  try {
    return fromLabelSelectorSpec((spec ?? {}) as never).matches(labels ?? {});
  } catch {
    return false;
  }
}

/** The labels namespaceSelector is matched against, or undefined when it does not apply. */
export async function namespaceLabelsFor(req: AdmissionRequest, namespaceLabels: (name: string) => Promise<Record<string, string> | undefined>): Promise<Record<string, string> | undefined> {
  if (req.resource.group === '' && req.resource.plural === 'namespaces') return (req.object ?? req.oldObject)?.metadata.labels ?? {};
  if (!req.resource.namespaced) return undefined;
  return (await namespaceLabels(req.namespace)) ?? {};
}

/**
 * Whether `webhook` is called for `req`; `nsLabels` is what namespaceLabelsFor gave (undefined: a
 * cluster-scoped object other than a Namespace, which the namespaceSelector does not filter).
 */
export function webhookMatches(webhook: Rec, req: AdmissionRequest, nsLabels: Record<string, string> | undefined): boolean {
  const rules: Rec[] = Array.isArray(webhook.rules) ? webhook.rules : [];
  if (!rules.some((r) => ruleMatches(r, req, webhook.matchPolicy ?? 'Equivalent'))) return false;
  if (nsLabels !== undefined && !selectorMatches(webhook.namespaceSelector, nsLabels)) return false;
  const objects = [req.object, req.oldObject].filter((o): o is KubeObject => !!o);
  if (objects.length && !objects.some((o) => selectorMatches(webhook.objectSelector, o.metadata?.labels))) return false;
  return true;
}
