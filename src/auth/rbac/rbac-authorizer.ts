/**
 * The RBAC authorizer (plugin/pkg/auth/authorizer/rbac + pkg/registry/rbac/validation's
 * DefaultRuleResolver) over an in-memory copy of the four RBAC kinds. Bindings are indexed by
 * subject, so a decision looks only at the bindings that name the user, one of its groups or its
 * ServiceAccount — not at every binding in the cluster.
 *
 *   informer events ─▶ set / remove ─▶ roles, clusterRoles, bindings by subject
 *   authorize(attrs) ─▶ ClusterRoleBindings for the subject, then RoleBindings in attrs.namespace
 *                       ─▶ each bound role's rules ─▶ ruleAllows → allow | no-opinion
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Attributes, Authorizer, Decision, UserInfo } from '../attributes.ts';
import { ruleAllows, type PolicyRule } from './policy-rule.ts';

export type RbacKind = 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding';

interface Subject { kind: string; name: string; namespace?: string; apiGroup?: string }
interface RoleRef { kind: string; name: string; apiGroup?: string }
interface Binding { namespace: string; name: string; roleRef: RoleRef; keys: string[] }

/** Index keys of a binding's subjects: `u:<user name>` (ServiceAccounts as their user name) or `g:<group>`. */
function subjectKeys(subjects: Subject[] | undefined, bindingNamespace: string): string[] {
  const keys: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'User') keys.push(`u:${s.name}`);
    else if (s.kind === 'Group') keys.push(`g:${s.name}`);
    else if (s.kind === 'ServiceAccount') keys.push(`u:system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`);
  }
  return keys;
}

function userKeys(user: UserInfo): string[] {
  return [`u:${user.name}`, ...user.groups.map((g) => `g:${g}`)];
}

/** What allowed a request, as `RBAC: allowed by …` reasons name it. */
export interface RuleSource {
  binding: string;
  role: string;
}

export class RbacAuthorizer implements Authorizer {
  private readonly roles = new Map<string, PolicyRule[]>(); //        `<ns>/<name>`
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  private readonly clusterBindings = new Map<string, Binding>(); //   name → binding
  private readonly bindings = new Map<string, Binding>(); //          `<ns>/<name>` → binding
  // subject key → bindings naming it; RoleBindings per namespace.
  private readonly clusterBySubject = new Map<string, Set<Binding>>();
  private readonly nsBySubject = new Map<string, Map<string, Set<Binding>>>();

  /** Adds or replaces an object of one of the four kinds. */
  set(kind: RbacKind, obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    switch (kind) {
      case 'Role': this.roles.set(`${ns}/${name}`, obj.rules ?? []); return;
      case 'ClusterRole': this.clusterRoles.set(name, obj.rules ?? []); return;
      case 'ClusterRoleBinding':
        this.remove(kind, obj);
        this.index(this.clusterBindings, name, { namespace: '', name, roleRef: obj.roleRef, keys: subjectKeys(obj.subjects, '') }, this.clusterBySubject);
        return;
      case 'RoleBinding': {
        this.remove(kind, obj);
        let byNs = this.nsBySubject.get(ns);
        if (!byNs) this.nsBySubject.set(ns, (byNs = new Map()));
        this.index(this.bindings, `${ns}/${name}`, { namespace: ns, name, roleRef: obj.roleRef, keys: subjectKeys(obj.subjects, ns) }, byNs);
      }
    }
  }

  remove(kind: RbacKind, obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    switch (kind) {
      case 'Role': this.roles.delete(`${ns}/${name}`); return;
      case 'ClusterRole': this.clusterRoles.delete(name); return;
      case 'ClusterRoleBinding': this.unindex(this.clusterBindings, name, this.clusterBySubject); return;
      case 'RoleBinding': {
        const byNs = this.nsBySubject.get(ns);
        if (byNs) this.unindex(this.bindings, `${ns}/${name}`, byNs);
      }
    }
  }

  private index(table: Map<string, Binding>, key: string, b: Binding, bySubject: Map<string, Set<Binding>>): void {
    table.set(key, b);
    for (const k of b.keys) {
      let set = bySubject.get(k);
      if (!set) bySubject.set(k, (set = new Set()));
      set.add(b);
    }
  }

  private unindex(table: Map<string, Binding>, key: string, bySubject: Map<string, Set<Binding>>): void {
    const b = table.get(key);
    if (!b) return;
    table.delete(key);
    for (const k of b.keys) {
      const set = bySubject.get(k);
      set?.delete(b);
      if (set?.size === 0) bySubject.delete(k);
    }
  }

  private roleRules(ref: RoleRef, namespace: string): PolicyRule[] {
    return this.referencedRules(ref, namespace) ?? [];
  }

  /** The rules of a binding's role (GetRoleReferenceRules): a Role in `namespace`, or a ClusterRole; undefined when unknown. */
  referencedRules(ref: { kind: string; name: string }, namespace: string): PolicyRule[] | undefined {
    if (ref.kind === 'ClusterRole') return this.clusterRoles.get(ref.name);
    if (ref.kind === 'Role') return this.roles.get(`${namespace}/${ref.name}`);
    return undefined;
  }

  /**
   * Visits the rules that apply to `user` in `namespace` ('' = cluster-wide only): rules bound
   * cluster-wide first, then those bound in the namespace. Stops when `visit` returns false.
   */
  visitRules(user: UserInfo, namespace: string, visit: (rule: PolicyRule, source: RuleSource) => boolean): void {
    const keys = userKeys(user);
    const seen = new Set<Binding>();
    const walk = (bySubject: Map<string, Set<Binding>> | undefined, kind: string): boolean => {
      if (!bySubject) return true;
      for (const k of keys) {
        for (const b of bySubject.get(k) ?? []) {
          if (seen.has(b)) continue;
          seen.add(b);
          const source = { binding: `${kind} "${b.namespace ? `${b.namespace}/` : ''}${b.name}"`, role: `${b.roleRef.kind} "${b.roleRef.name}"` };
          for (const rule of this.roleRules(b.roleRef, b.namespace)) if (!visit(rule, source)) return false;
        }
      }
      return true;
    };
    if (!walk(this.clusterBySubject, 'ClusterRoleBinding')) return;
    if (namespace) walk(this.nsBySubject.get(namespace), 'RoleBinding');
  }

  /** Every rule that applies to `user` in `namespace` (SelfSubjectRulesReview, escalation checks). */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    const rules: PolicyRule[] = [];
    this.visitRules(user, namespace, (r) => { rules.push(r); return true; });
    return rules;
  }

  /** Allow when a bound rule allows; RBAC never denies, it has no opinion otherwise. */
  authorize(a: Attributes): Decision {
    let allowed = false;
    this.visitRules(a.user, a.namespace, (rule) => !(allowed = ruleAllows(a, rule)));
    return allowed ? 'allow' : 'no-opinion';
  }

  /** Sizes, for metrics and the benchmark. */
  get size(): { roles: number; clusterRoles: number; bindings: number; clusterBindings: number } {
    return { roles: this.roles.size, clusterRoles: this.clusterRoles.size, bindings: this.bindings.size, clusterBindings: this.clusterBindings.size };
  }
}
