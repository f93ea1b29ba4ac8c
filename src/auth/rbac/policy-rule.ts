/**
 * RBAC policy rules: does a rule allow a request (pkg/apis/rbac/v1 evaluation_helpers.go and the
 * RBAC authorizer's RuleAllows), and does a set of rules cover another (pkg/registry/rbac/validation
 * Covers — the escalation check: you may grant only what you hold).
 */
import type { Attributes } from '../attributes.ts';

/** rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some((r) => r === '*' || r === combined || (!!subresource && r === `*/${subresource}`));
}

function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
}

/** True when `rule` allows the request. */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.isResourceRequest) return nonResourceURLMatches(rule, a.path);
  return has(rule.apiGroups, a.apiGroup) && resourceMatches(rule, a.resource, a.subresource)
    && (!rule.resourceNames?.length || rule.resourceNames.includes(a.name));
}

/** Splits a rule into rules of one group, resource, verb and name each (breakdownRule, same order). */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if (rule.resourceNames?.length) for (const name of rule.resourceNames) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  // Non-resource URLs combine with verbs only.
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

const hasAll = (set: string[] | undefined, wanted: string[] | undefined) => (wanted ?? []).every((w) => !!set?.includes(w));
const urlCovers = (owner: string, path: string) => owner === path || (owner.endsWith('*') && path.startsWith(owner.slice(0, -1)));

/** Does a held rule cover a broken-down requested rule (ruleCovers)? Wildcards only as whole values. */
function covers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = !!owner.verbs.includes('*') || hasAll(owner.verbs, sub.verbs);
  const groups = !!owner.apiGroups?.includes('*') || hasAll(owner.apiGroups, sub.apiGroups);
  // `*/scale` covers `deployments/scale` (resourceCoversAll).
  const resources = !!owner.resources?.includes('*') || hasAll(owner.resources, sub.resources)
    || (sub.resources ?? []).every((r) => r.includes('/') && !!owner.resources?.includes(`*/${r.slice(r.indexOf('/') + 1)}`));
  const urls = (sub.nonResourceURLs ?? []).every((u) => (owner.nonResourceURLs ?? []).some((o) => urlCovers(o, u)));
  const names = !owner.resourceNames?.length || (!!sub.resourceNames?.length && hasAll(owner.resourceNames, sub.resourceNames));
  return verbs && groups && resources && urls && names;
}

/**
 * The requested rules that `held` does not cover (empty: no escalation). Each requested rule is
 * broken down into single-valued rules first, as Kubernetes' Covers does.
 */
export function uncoveredRules(held: PolicyRule[], requested: PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of requested) for (const one of breakdown(rule)) if (!held.some((h) => covers(h, one))) missing.push(one);
  return missing;
}

/** `{APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]}`: the compact form of escalation messages. */
export function compactRule(r: PolicyRule): string {
  const q = (l: string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * CompactRules: rules of one API group and one resource, without names or URLs, merged into one
 * rule with all their verbs (first appearance first) — the form escalation messages list.
 */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = !r.resourceNames?.length && !r.nonResourceURLs?.length && r.apiGroups?.length === 1 && r.resources?.length === 1;
    if (!isSimple) { out.push(r); continue; }
    const key = `${r.apiGroups![0]}\u0000${r.resources![0]}`;
    const seen = simple.get(key);
    if (seen) seen.verbs = [...seen.verbs, ...r.verbs.filter((v) => !seen.verbs.includes(v))];
    else simple.set(key, { apiGroups: [...r.apiGroups!], resources: [...r.resources!], verbs: [...r.verbs] });
  }
  return [...out, ...simple.values()];
}
