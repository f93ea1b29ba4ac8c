/**
 * The Node authorizer (plugin/pkg/auth/authorizer/node/node_authorizer.go, with 1.32's
 * AuthorizeNodeWithSelectors): requests of a node's credential (`system:node:<name>` in
 * `system:nodes`) are decided here, before RBAC.
 *
 *   secrets, configmaps       get/list/watch one object used by a pod bound to the node
 *   pvcs, pvs                 get one used by such a pod (pvcs/status: update, patch)
 *   serviceaccounts/token     create for a ServiceAccount of such a pod
 *   pods                      get one bound to the node; list/watch with fieldSelector spec.nodeName=<node>;
 *                             create, delete, status, eviction (NodeRestriction narrows them to its pods)
 *   nodes                     read its own Node; create, update, patch, status (NodeRestriction: its own)
 *   leases                    its own in kube-node-lease
 *   everything else           the static node rules (node-rules.ts)
 *
 * Requests of other users get no opinion; so does whatever a node may not do (RBAC may still allow
 * it, as in Kubernetes, where nothing binds system:node to nodes any more).
 */
import { parseFieldSelector } from '../../apis/selectors/field-selector.ts';
import type { Attributes, Authorizer, Decision } from '../attributes.ts';
import { ruleAllows } from '../rbac/policy-rule.ts';
import type { NodeGraph, VertexType } from './node-graph.ts';
import { nodeIdentity } from './node-identity.ts';
import { NODE_RULES } from './node-rules.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The value a field selector requires for `field` (`f=v` or `f==v`), if it parses and has one. */
function selectorValue(selector: string | undefined, field: string): string | undefined {
  if (!selector) return undefined;
  try {
    return parseFieldSelector(selector).field(field);
  } catch {
    return undefined;
  }
}

export class NodeAuthorizer implements Authorizer {
  /** Why the last request was refused (kube-apiserver logs this as `NODE DENY`); for tests and logs. */
  lastDenial = '';

  constructor(private readonly graph: NodeGraph) {}

  authorize(a: Attributes): Decision {
    const { isNode, nodeName } = nodeIdentity(a.user);
    if (!isNode) return 'no-opinion';
    if (!nodeName) return this.deny(`unknown node for user "${a.user.name}"`);
    if (a.isResourceRequest) {
      switch (`${a.apiGroup}/${a.resource}`) {
        case '/secrets': return this.readNamespacedObject(nodeName, 'secret', a);
        case '/configmaps': return this.readNamespacedObject(nodeName, 'configmap', a);
        case '/persistentvolumeclaims':
          return a.subresource === 'status' ? this.statusUpdate(nodeName, 'pvc', a) : this.get(nodeName, 'pvc', a);
        case '/persistentvolumes': return this.get(nodeName, 'pv', a);
        case '/serviceaccounts': return this.createToken(nodeName, a);
        case 'coordination.k8s.io/leases': return this.lease(nodeName, a);
        case '/nodes': return this.node(nodeName, a);
        case '/pods': return this.pod(nodeName, a);
      }
    }
    return NODE_RULES.some((r) => ruleAllows(a, r)) ? 'allow' : 'no-opinion';
  }

  private deny(why: string): Decision {
    this.lastDenial = why;
    return 'no-opinion';
  }

  /** The object's name: the URL's, or for list/watch a `metadata.name=` field selector (as kube-apiserver's RequestInfo). */
  private name(a: Attributes): string {
    if (a.name) return a.name;
    return (a.verb === 'list' || a.verb === 'watch') ? selectorValue(a.fieldSelector, 'metadata.name') ?? '' : '';
  }

  private related(nodeName: string, type: VertexType, a: Attributes): Decision {
    const name = this.name(a);
    if (!name) return this.deny('No Object name found');
    if (!this.graph.hasPath(nodeName, type, a.namespace, name)) return this.deny(`no relationship found between node '${nodeName}' and this object`);
    return 'allow';
  }

  private readNamespacedObject(nodeName: string, type: VertexType, a: Attributes): Decision {
    if (!['get', 'list', 'watch'].includes(a.verb)) return this.deny('can only read resources of this type');
    if (a.subresource) return this.deny('cannot read subresource');
    if (!a.namespace) return this.deny('can only read namespaced object of this type');
    return this.related(nodeName, type, a);
  }

  private get(nodeName: string, type: VertexType, a: Attributes): Decision {
    if (a.verb !== 'get') return this.deny('can only get individual resources of this type');
    if (a.subresource) return this.deny('cannot get subresource');
    return this.related(nodeName, type, a);
  }

  private statusUpdate(nodeName: string, type: VertexType, a: Attributes): Decision {
    if (a.verb !== 'update' && a.verb !== 'patch') return this.deny('can only get/update/patch this type');
    return this.related(nodeName, type, a);
  }

  private createToken(nodeName: string, a: Attributes): Decision {
    if (a.verb !== 'create' || !a.name) return this.deny('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return this.deny('can only create token subresource of serviceaccount');
    return this.related(nodeName, 'serviceaccount', a);
  }

  private lease(nodeName: string, a: Attributes): Decision {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return this.deny('can only get, create, update, patch, or delete a node lease');
    if (a.namespace !== NODE_LEASE_NAMESPACE) return this.deny(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    // The name of a create is in the body: NodeRestriction checks it.
    if (a.verb !== 'create' && a.name !== nodeName) return this.deny('can only access node lease with the same name as the requesting node');
    return 'allow';
  }

  private node(nodeName: string, a: Attributes): Decision {
    if (a.subresource === '') {
      if (['create', 'update', 'patch'].includes(a.verb)) return 'allow';
      if (['get', 'list', 'watch'].includes(a.verb)) {
        const name = this.name(a);
        if (name === nodeName) return 'allow';
        return this.deny(name ? `node '${nodeName}' cannot read '${name}', only its own Node object` : `node '${nodeName}' cannot read all nodes, only its own Node object`);
      }
    } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) {
      return 'allow';
    }
    return this.deny('');
  }

  private pod(nodeName: string, a: Attributes): Decision {
    switch (a.subresource) {
      case '':
        if (a.verb === 'get') return this.get(nodeName, 'pod', a);
        if (a.verb === 'list' || a.verb === 'watch') {
          if (selectorValue(a.fieldSelector, 'spec.nodeName') === nodeName) return 'allow';
          if (this.name(a)) return this.related(nodeName, 'pod', a);
          return this.deny('can only list/watch pods with spec.nodeName field selector');
        }
        // Mirror pods and the final delete of a pod it ran; NodeRestriction narrows both.
        if (a.verb === 'create' || a.verb === 'delete') return 'allow';
        break;
      case 'status':
        if (a.verb === 'update' || a.verb === 'patch') return 'allow';
        break;
      case 'eviction':
        if (a.verb === 'create') return 'allow';
        break;
    }
    return this.deny('');
  }
}
