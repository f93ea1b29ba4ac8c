/**
 * ClusterRole aggregation (pkg/controller/clusterroleaggregation): an aggregated ClusterRole's rules
 * are the rules of every other ClusterRole its aggregationRule's selectors match, ClusterRoles in
 * name order, each rule once. Pure: the controller and the bootstrap both use it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { selectorMatches, type LabelSelectorSpec } from '../../apis/selectors/label-selector-spec.ts';
import type { PolicyRule } from './policy-rule.ts';

/** The rules `role` aggregates from `all` ClusterRoles; undefined when it has no aggregationRule. */
export function aggregatedRules(role: KubeObject, all: Iterable<KubeObject>): PolicyRule[] | undefined {
  const selectors: LabelSelectorSpec[] | undefined = role.aggregationRule?.clusterRoleSelectors;
  if (!role.aggregationRule) return undefined;
  const sorted = [...all].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  const rules: PolicyRule[] = [];
  for (const sel of selectors ?? []) {
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name || !selectorMatches(sel, other.metadata.labels)) continue;
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
