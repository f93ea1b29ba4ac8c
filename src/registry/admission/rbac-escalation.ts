/**
 * RBAC escalation prevention as admission (the policy-based REST storage of pkg/registry/rbac/
 * {role,clusterrole,rolebinding,clusterrolebinding}/policybased): writing a Role or ClusterRole
 * needs every rule it grants — or the `escalate` verb on it; writing a binding needs every rule of
 * the role it references — or the `bind` verb on that role. system:masters may do anything, and an
 * update that only touches what the garbage collector writes (owner references, finalizers) passes.
 * Refusals are 403s in Kubernetes' words (auth/rbac/escalation.ts).
 *
 *   create/update of roles, clusterroles, rolebindings, clusterrolebindings
 *     ─▶ system:masters? ─▶ only GC fields changed? ─▶ escalate / bind allowed? ─▶ rules covered? ─▶ 403
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import type { Authorizer, UserInfo } from '../../auth/attributes.ts';
import {
  FULL_AUTHORITY, RBAC_GROUP, bindingAuthorized, escalationAllowed, escalationError, roleEscalationAuthorized,
} from '../../auth/rbac/escalation.ts';
import type { PolicyRule } from '../../auth/rbac/policy-rule.ts';
import { errors } from '../../errors/index.ts';
import type { AdmissionPlugin, AdmissionRequest } from './admission.ts';

/** What the check reads: the requester's rules, the referenced roles, and who may escalate or bind. */
export interface EscalationCheckSources {
  /** Every rule `user` holds in `namespace` ('' = cluster-wide only): the RBAC rule resolver. */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[];
  /** The rules of a binding's role (a Role in `namespace`, or a ClusterRole); undefined when it does not exist. */
  roleRules(ref: { kind: string; name: string }, namespace: string): PolicyRule[] | undefined;
  /** The authorizer that answers `escalate` and `bind` (the whole chain). */
  authorizer(): Authorizer;
}

/** IsOnlyMutatingGCFields: equal but for owner references, finalizers and what the store sets. */
function onlyGCFieldsChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  if (!old) return false;
  const strip = (o: KubeObject) => {
    const { ownerReferences: _o, finalizers: _f, managedFields: _m, resourceVersion: _r, generation: _g, ...meta } = o.metadata ?? {};
    return { ...o, metadata: meta };
  };
  return isDeepStrictEqual(strip(obj), strip(old));
}

const RESOURCES = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'];

/** The RBACEscalation admission plugin (Kubernetes does it in the RBAC kinds' REST storage). */
export function rbacEscalationAdmission(sources: EscalationCheckSources): AdmissionPlugin {
  async function checkRole(req: AdmissionRequest, obj: KubeObject): Promise<void> {
    const resource = req.resource.plural as 'roles' | 'clusterroles';
    if (await roleEscalationAuthorized(sources.authorizer(), req.user, resource, req.namespace, req.name)) return;
    const held = sources.rulesFor(req.user, req.namespace);
    const why = escalationError(req.user, held, (obj.rules ?? []) as PolicyRule[]);
    if (why) throw errors.forbidden(RBAC_GROUP, resource, req.name, why);
    // An aggregationRule can gather any rule (and keeps a role from being tightened): writing a
    // ClusterRole that has or had one needs full authority.
    if (resource === 'clusterroles' && (obj.aggregationRule || req.oldObject?.aggregationRule)) {
      if (escalationError(req.user, held, [...FULL_AUTHORITY])) {
        const article = req.operation === 'CREATE' ? 'the' : 'an';
        throw errors.forbidden(RBAC_GROUP, resource, req.name, `must have cluster-admin privileges to use ${article} aggregationRule`);
      }
    }
  }

  async function checkBinding(req: AdmissionRequest, obj: KubeObject): Promise<void> {
    const ref = obj.roleRef ?? {};
    if (await bindingAuthorized(sources.authorizer(), req.user, ref, req.namespace)) return;
    const rules = sources.roleRules(ref, req.namespace);
    if (!rules) throw errors.notFound(RBAC_GROUP, ref.kind === 'Role' ? 'roles' : 'clusterroles', String(ref.name ?? ''));
    const why = escalationError(req.user, sources.rulesFor(req.user, req.namespace), rules);
    if (why) throw errors.forbidden(RBAC_GROUP, req.resource.plural, req.name, why);
  }

  return {
    name: 'RBACEscalation',
    // Synchronous for what it does not concern (most writes: no promise for nothing to check).
    validate(req) {
      if (req.resource.group !== RBAC_GROUP || !RESOURCES.includes(req.resource.plural) || req.subresource) return;
      if ((req.operation !== 'CREATE' && req.operation !== 'UPDATE') || !req.object) return;
      if (escalationAllowed(req.user)) return;
      if (req.operation === 'UPDATE' && onlyGCFieldsChanged(req.object, req.oldObject)) return;
      return req.resource.plural.endsWith('bindings') ? checkBinding(req, req.object) : checkRole(req, req.object);
    },
  };
}
