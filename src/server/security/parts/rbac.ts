/**
 * The security part for RBAC (kube-apiserver's RBAC authorizer, its rbac/bootstrap-roles post-start
 * hook, the RBAC kinds' escalation checks and the authorization.k8s.io reviews):
 *
 *   informers of the four kinds ─▶ RbacAuthorizer (set / remove) ─▶ authorization chain
 *   start: caches synced ─▶ default roles and bindings reconciled (created, or missing rules and
 *          subjects added) ─▶ aggregated ClusterRoles filled ─▶ the authorizer is whole before /readyz
 *   admission: RBACEscalation (no granting what you do not hold, unless `escalate` / `bind`)
 *   reviews: SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectAccessReview ask the whole
 *            chain; SelfSubjectRulesReview lists the RBAC rules (never stored: ResourceStore.compute)
 */
import type { KubeObject } from '../../../apis/object.ts';
import type { UserInfo } from '../../../auth/attributes.ts';
import { localSubjectAccessReview, selfSubjectAccessReview, selfSubjectRulesReview, subjectAccessReview } from '../../../auth/access-review.ts';
import { aggregatedRules } from '../../../auth/rbac/aggregation.ts';
import { bootstrapPolicy } from '../../../auth/rbac/bootstrap-policy.ts';
import { RbacAuthorizer, type RbacKind } from '../../../auth/rbac/rbac-authorizer.ts';
import { reconcileBinding, reconcileRole, type Reconciliation } from '../../../auth/rbac/reconcile.ts';
import type { ResourceRef } from '../../../client/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../../client/errors.ts';
import type { LocalClient } from '../../../client/local-client.ts';
import type { SharedInformer } from '../../../client/informer.ts';
import { SYSTEM_USER } from '../../../registry/admission/admission.ts';
import { rbacEscalationAdmission } from '../../../registry/admission/rbac-escalation.ts';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../../../util/log.ts';
import type { SecurityContext, SecurityPart } from '../security-part.ts';

const RBAC = 'rbac.authorization.k8s.io';
const ref = (resource: string): ResourceRef => ({ group: RBAC, version: 'v1', resource });

/** The four kinds, in reconcile order: roles before the bindings that name them. */
const KINDS: { kind: RbacKind; ref: ResourceRef }[] = [
  { kind: 'ClusterRole', ref: ref('clusterroles') },
  { kind: 'ClusterRoleBinding', ref: ref('clusterrolebindings') },
  { kind: 'Role', ref: ref('roles') },
  { kind: 'RoleBinding', ref: ref('rolebindings') },
];

/** One authorizer per server (a process may run several: tests). */
const authorizers = new WeakMap<SecurityContext, RbacAuthorizer>();

function rbacOf(ctx: SecurityContext): RbacAuthorizer {
  let a = authorizers.get(ctx);
  if (!a) authorizers.set(ctx, (a = new RbacAuthorizer()));
  return a;
}

/** Serves the four reviews from the registry's (never written) stores. */
function installReviews(ctx: SecurityContext, rbac: RbacAuthorizer): void {
  const store = (plural: string) => {
    const s = ctx.registry.store('authorization.k8s.io', plural);
    if (!s) throw new Error(`authorization.k8s.io/${plural} is not served`);
    return s;
  };
  // The whole chain, as a request would be decided; set by buildSecurity right after authorizers().
  const chain = () => ctx.authorizer ?? rbac;
  const requester = (user: UserInfo | undefined) => user ?? SYSTEM_USER;
  store('subjectaccessreviews').compute = (_ns, obj) => subjectAccessReview(obj, chain());
  store('localsubjectaccessreviews').compute = (ns, obj) => localSubjectAccessReview(obj, ns ?? '', chain());
  store('selfsubjectaccessreviews').compute = (_ns, obj, opts) => selfSubjectAccessReview(obj, requester(opts.user), chain());
  store('selfsubjectrulesreviews').compute = async (_ns, obj, opts) => selfSubjectRulesReview(obj, requester(opts.user), rbac);
}

const keyOf = (o: KubeObject) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name!);

/** Writes one reconciliation; returns the stored object (undefined when nothing was written). */
async function apply(client: LocalClient, k: (typeof KINDS)[number], r: Reconciliation, existing: KubeObject | undefined): Promise<KubeObject | undefined> {
  switch (r.op) {
    case 'none':
    case 'protected':
      return undefined;
    case 'create':
      return client.create(k.ref, r.object.metadata.namespace, r.object);
    case 'update':
      return client.update(k.ref, r.object.metadata.namespace, { ...r.object, metadata: { ...r.object.metadata, resourceVersion: existing?.metadata.resourceVersion } });
    case 'recreate':
      await client.delete(k.ref, existing!.metadata.namespace, existing!.metadata.name!).catch((err) => { if (!isNotFound(err)) throw err; });
      return client.create(k.ref, r.object.metadata.namespace, r.object);
  }
}

/**
 * Reconciles every default object with what is stored (from the synced caches; a conflict re-reads
 * the object and tries again) and feeds what it wrote to the authorizer at once.
 */
async function reconcileDefaults(client: LocalClient, informers: Map<RbacKind, SharedInformer>, rbac: RbacAuthorizer, log: Logger): Promise<void> {
  const started = performance.now();
  const policy = bootstrapPolicy();
  const wanted: Record<RbacKind, KubeObject[]> = {
    ClusterRole: policy.clusterRoles, ClusterRoleBinding: policy.clusterRoleBindings, Role: policy.roles, RoleBinding: policy.roleBindings,
  };
  let written = 0;
  for (const k of KINDS) {
    const reconcile = k.kind.endsWith('Binding') ? reconcileBinding : reconcileRole;
    for (const expected of wanted[k.kind]) {
      let existing = informers.get(k.kind)!.get(keyOf(expected));
      for (let attempt = 0; ; attempt++) {
        const r = reconcile(expected, existing);
        if (r.op === 'protected') log.info('default RBAC object differs but has autoupdate off; left alone', { kind: k.kind, name: keyOf(expected) });
        try {
          const stored = await apply(client, k, r, existing);
          if (stored) { rbac.set(k.kind, stored); written++; }
          break;
        } catch (err) {
          if (attempt >= 4 || !(isConflict(err) || isNotFound(err) || isAlreadyExists(err))) throw err;
          existing = await client.get(k.ref, expected.metadata.namespace, expected.metadata.name!).catch(() => undefined);
        }
      }
    }
  }
  written += await aggregateOnce(client, informers.get('ClusterRole')!, rbac);
  if (written) log.info('default RBAC roles and bindings reconciled', { written, ms: Math.round(performance.now() - started) });
}

/**
 * Fills the aggregated ClusterRoles (admin, edit, view, and any user's) once before the server is
 * ready, so that bindings to them grant at once; the aggregation controller keeps them current.
 * Aggregations nest (edit is part of admin), so passes repeat until nothing changes.
 */
async function aggregateOnce(client: LocalClient, clusterRoles: SharedInformer, rbac: RbacAuthorizer): Promise<number> {
  const current = new Map(clusterRoles.list().map((o) => [o.metadata.name!, o]));
  let written = 0;
  for (let pass = 0; pass < 5; pass++) {
    let changed = false;
    for (const role of current.values()) {
      const rules = aggregatedRules(role, current.values());
      if (!rules || isDeepStrictEqual(rules, role.rules ?? [])) continue;
      const stored = await client.update(ref('clusterroles'), undefined, { ...role, rules });
      current.set(stored.metadata.name!, stored);
      rbac.set('ClusterRole', stored);
      changed = true;
      written++;
    }
    if (!changed) break;
  }
  return written;
}

export const rbacPart: SecurityPart = {
  name: 'rbac',
  authorizers(ctx) {
    const rbac = rbacOf(ctx);
    installReviews(ctx, rbac);
    return [rbac];
  },
  admission(ctx) {
    const rbac = rbacOf(ctx);
    return [rbacEscalationAdmission({
      rulesFor: (user, namespace) => rbac.rulesFor(user, namespace),
      roleRules: (r, namespace) => rbac.referencedRules(r, namespace),
      authorizer: () => ctx.authorizer ?? rbac,
    })];
  },
  async start(ctx) {
    const rbac = rbacOf(ctx);
    // Asked for before the factory starts (security.ts starts it after every part's start began).
    const informers = new Map<RbacKind, SharedInformer>();
    const handlers = new Map<RbacKind, Parameters<SharedInformer['addHandlers']>[0]>();
    for (const k of KINDS) {
      const inf = ctx.informers.forResource(k.ref);
      const h = { add: (o: KubeObject) => rbac.set(k.kind, o), update: (_: KubeObject, o: KubeObject) => rbac.set(k.kind, o), delete: (o: KubeObject) => rbac.remove(k.kind, o) };
      inf.addHandlers(h);
      informers.set(k.kind, inf);
      handlers.set(k.kind, h);
    }
    await Promise.all([...informers.values()].map((i) => i.synced()));
    await reconcileDefaults(ctx.client, informers, rbac, ctx.log.child({ part: 'rbac' }));
    return {
      stop() {
        for (const [kind, inf] of informers) inf.removeHandlers(handlers.get(kind)!);
      },
    };
  },
};
