/**
 * ClusterRole aggregation (pkg/controller/clusterroleaggregation): an aggregated ClusterRole's rules
 * are the rules of every other ClusterRole its aggregationRule's selectors match, ClusterRoles in
 * name order, each rule once. Pure: the controller and the bootstrap both use it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import type { PolicyRule } from './policy-rule.ts';

/** A label selector (metav1.LabelSelector) matching `labels`; an empty selector matches everything. */
export function labelSelectorMatches(sel: KubeObject | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const set = labels ?? {};
  for (const [k, v] of Object.entries((sel.matchLabels ?? {}) as Record<string, string>)) if (set[k] !== v) return false;
  for (const e of (sel.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]) {
    const has = Object.hasOwn(set, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(set[e.key])) return false; break;
      case 'NotIn': if (has && values.includes(set[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** The rules `role` aggregates from `all` ClusterRoles; undefined when it has no aggregationRule. */
export function aggregatedRules(role: KubeObject, all: Iterable<KubeObject>): PolicyRule[] | undefined {
  const selectors: KubeObject[] | undefined = role.aggregationRule?.clusterRoleSelectors;
  if (!role.aggregationRule) return undefined;
  const sorted = [...all].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  const rules: PolicyRule[] = [];
  for (const sel of selectors ?? []) {
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name || !labelSelectorMatches(sel, other.metadata.labels)) continue;
      for (const r of (other.rules ?? []) as PolicyRule[]) if (!rules.some((have) => isDeepStrictEqual(have, r))) rules.push(r);
    }
  }
  return rules;
}

/** True when `role` is aggregated and its stored rules differ from what it aggregates. */
export function needsAggregation(role: KubeObject, all: Iterable<KubeObject>): PolicyRule[] | undefined {
  const rules = aggregatedRules(role, all);
  if (!rules) return undefined;
  return isDeepStrictEqual(rules, role.rules ?? []) ? undefined : rules;
}
