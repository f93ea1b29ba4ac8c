/**
 * NodeRestriction (plugin/pkg/admission/noderestriction): what a node's credential may write is
 * narrowed to itself — after the Node authorizer let the verb through:
 *
 *   pods            create only mirror pods bound to itself (Berth has no static pods, so in effect
 *                   none); delete (and evict) only pods bound to itself; status only of its pods,
 *                   without touching their labels
 *   nodes           only its own Node; never its taints; labels only outside the kubernetes.io /
 *                   k8s.io namespaces unless the kubelet may set them, never node-restriction.kubernetes.io
 *   pvcs            only status (capacity and conditions)
 *   token requests  only bound to a pod (with its uid) that runs on the node
 *   leases          only its own, in kube-node-lease
 *
 * Other users are not this plugin's business. A refusal is a 403 in the admission's words.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { podConfigMapNames, podSecretNames } from '../../auth/node/node-graph.ts';
import { nodeIdentity } from '../../auth/node/node-identity.ts';
import { errors, type ApiError } from '../../errors/index.ts';
import type { AdmissionPlugin, AdmissionRequest } from './admission.ts';

export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const NODE_RESTRICTION_LABEL_NAMESPACE = 'node-restriction.kubernetes.io';

/** Labels a kubelet may set on its own Node (k8s.io/kubelet/pkg/apis well_known_labels.go). */
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type',
  'kubernetes.io/os', 'kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/arch',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const labelNamespace = (key: string) => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '');
const inNamespace = (ns: string, domain: string) => ns === domain || ns.endsWith(`.${domain}`);

function isKubeletLabel(key: string): boolean {
  return KUBELET_LABELS.has(key) || KUBELET_LABEL_NAMESPACES.some((d) => inNamespace(labelNamespace(key), d));
}

/** The labels a node may not add, remove or change (getForbiddenLabels), sorted. */
export function forbiddenNodeLabels(next: Record<string, string> | undefined, old: Record<string, string> | undefined): string[] {
  const a = next ?? {};
  const b = old ?? {};
  const changed = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => a[k] !== b[k] || !(k in a) || !(k in b)));
  return [...changed].filter((k) => {
    const ns = labelNamespace(k);
    if (inNamespace(ns, NODE_RESTRICTION_LABEL_NAMESPACE)) return true;
    return (inNamespace(ns, 'kubernetes.io') || inNamespace(ns, 'k8s.io')) && !isKubeletLabel(k);
  }).sort();
}

/** Reads a pod as the API stores it now; undefined when there is none. */
export type PodGetter = (namespace: string, name: string) => Promise<KubeObject | undefined>;

export class NodeRestriction implements AdmissionPlugin {
  readonly name = 'NodeRestriction';

  constructor(private readonly getPod: PodGetter) {}

  // Synchronous for a user who is not a node (most writes): no promise for nothing to check.
  validate(req: AdmissionRequest): void | Promise<void> {
    const { isNode, nodeName } = nodeIdentity(req.user);
    if (!isNode) return;
    return this.validateNode(req, nodeName);
  }

  private async validateNode(req: AdmissionRequest, nodeName: string): Promise<void> {
    if (!nodeName) throw this.forbidden(req, `could not determine node from user "${req.user.name}"`);
    switch (`${req.resource.group}/${req.resource.plural}`) {
      case '/pods': return this.pod(req, nodeName);
      case '/nodes': return this.node(req, nodeName);
      case '/persistentvolumeclaims': return this.pvc(req, nodeName);
      case '/serviceaccounts': return this.serviceAccount(req, nodeName);
      case 'coordination.k8s.io/leases': return this.lease(req, nodeName);
    }
  }

  private forbidden(req: AdmissionRequest, why: string): ApiError {
    return errors.forbidden(req.resource.group, req.resource.plural, req.name || req.object?.metadata?.name || '', why);
  }

  private async pod(req: AdmissionRequest, nodeName: string): Promise<void> {
    if (req.subresource === 'status') {
      if (req.operation !== 'UPDATE') throw this.forbidden(req, `unexpected operation "${req.operation}"`);
      if (req.oldObject?.spec?.nodeName !== nodeName) throw this.forbidden(req, `node "${nodeName}" can only update pod status for pods with spec.nodeName set to itself`);
      if (!isDeepStrictEqual(req.oldObject?.metadata?.labels ?? {}, req.object?.metadata?.labels ?? {})) throw this.forbidden(req, `node "${nodeName}" cannot update labels through pod status`);
      return;
    }
    if (req.subresource === 'eviction') {
      const pod = await this.getPod(req.namespace, req.name || req.object?.metadata?.name || '');
      if (!pod) throw errors.notFound('', 'pods', req.name);
      if (pod.spec?.nodeName !== nodeName) throw this.forbidden(req, `node ${nodeName} can only evict pods with spec.nodeName set to itself`);
      return;
    }
    if (req.subresource) throw this.forbidden(req, `unexpected pod subresource "${req.subresource}", only 'status' and 'eviction' are allowed`);
    switch (req.operation) {
      case 'CREATE': return this.podCreate(req, nodeName);
      case 'DELETE':
        if (req.oldObject?.spec?.nodeName !== nodeName) throw this.forbidden(req, `node "${nodeName}" can only delete pods with spec.nodeName set to itself`);
        return;
      default:
        throw this.forbidden(req, `unexpected operation "${req.operation}", node "${nodeName}" can only create and delete mirror pods`);
    }
  }

  private podCreate(req: AdmissionRequest, nodeName: string): void {
    const pod = req.object!;
    if (!pod.metadata?.annotations || !(MIRROR_POD_ANNOTATION in pod.metadata.annotations)) {
      throw this.forbidden(req, `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${nodeName}" can only create mirror pods`);
    }
    if (pod.spec?.nodeName !== nodeName) throw this.forbidden(req, `node "${nodeName}" can only create pods with spec.nodeName set to itself`);
    const owners = pod.metadata.ownerReferences ?? [];
    if (owners.length !== 1) throw this.forbidden(req, `node "${nodeName}" can only create pods with ${owners.length ? 'a single owner reference' : 'an owner reference'} set to itself`);
    const o = owners[0];
    if (o.apiVersion !== 'v1' || o.kind !== 'Node' || o.name !== nodeName) throw this.forbidden(req, `node "${nodeName}" can only create pods with an owner reference set to itself`);
    if (o.controller !== true) throw this.forbidden(req, `node "${nodeName}" can only create pods with a controller owner reference set to itself`);
    if (o.blockOwnerDeletion === true) throw this.forbidden(req, `node "${nodeName}" must not set blockOwnerDeletion on an owner reference`);
    // A mirror pod references nothing a node could then read through the graph.
    const spec = pod.spec ?? {};
    if (spec.serviceAccountName) throw this.forbidden(req, `node "${nodeName}" can not create pods that reference a service account`);
    if (podSecretNames(pod).length) throw this.forbidden(req, `node "${nodeName}" can not create pods that reference secrets`);
    if (podConfigMapNames(pod).length) throw this.forbidden(req, `node "${nodeName}" can not create pods that reference configmaps`);
    if ((spec.volumes ?? []).some((v: KubeObject) => v?.persistentVolumeClaim)) throw this.forbidden(req, `node "${nodeName}" can not create pods that reference persistentvolumeclaims`);
  }

  private node(req: AdmissionRequest, nodeName: string): void {
    const requested = req.name || req.object?.metadata?.name || '';
    if (requested !== nodeName) throw this.forbidden(req, `node "${nodeName}" is not allowed to modify node "${requested}"`);
    if (req.operation === 'CREATE') {
      if (req.object?.spec?.configSource) throw this.forbidden(req, `node "${nodeName}" is not allowed to create pods with a non-nil configSource`);
      const bad = forbiddenNodeLabels(req.object?.metadata?.labels, undefined);
      if (bad.length) throw this.forbidden(req, `node "${nodeName}" is not allowed to set the following labels: ${bad.join(', ')}`);
    } else if (req.operation === 'UPDATE') {
      const next = req.object!;
      const old = req.oldObject!;
      if (next.spec?.configSource && !isDeepStrictEqual(next.spec.configSource, old.spec?.configSource)) {
        throw this.forbidden(req, `node "${nodeName}" is not allowed to update configSource to a new non-nil configSource`);
      }
      if (!isDeepStrictEqual(next.spec?.taints ?? [], old.spec?.taints ?? [])) throw this.forbidden(req, `node "${nodeName}" is not allowed to modify taints`);
      const bad = forbiddenNodeLabels(next.metadata?.labels, old.metadata?.labels);
      if (bad.length) throw this.forbidden(req, `is not allowed to modify labels: ${bad.join(', ')}`);
    }
  }

  private pvc(req: AdmissionRequest, nodeName: string): void {
    if (req.subresource !== 'status') throw this.forbidden(req, 'may only update PVC status');
    if (req.operation !== 'UPDATE') throw this.forbidden(req, `unexpected operation "${req.operation}"`);
    const strip = (o: KubeObject | undefined) => {
      const c = structuredClone(o ?? {}) as KubeObject;
      if (c.metadata) { delete c.metadata.resourceVersion; delete c.metadata.managedFields; }
      if (c.status) { delete c.status.capacity; delete c.status.conditions; delete c.status.allocatedResources; delete c.status.allocatedResourceStatuses; }
      return c;
    };
    if (!isDeepStrictEqual(strip(req.object), strip(req.oldObject))) {
      throw this.forbidden(req, `node "${nodeName}" is not allowed to update fields other than status.capacity and status.conditions`);
    }
  }

  private async serviceAccount(req: AdmissionRequest, nodeName: string): Promise<void> {
    if (req.operation !== 'CREATE' || req.subresource !== 'token') return;
    const ref = req.object?.spec?.boundObjectRef;
    if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name) throw this.forbidden(req, 'node requested token not bound to a pod');
    if (!ref.uid) throw this.forbidden(req, 'node requested token with a pod binding without a uid');
    const pod = await this.getPod(req.namespace, ref.name);
    if (!pod) throw errors.notFound('', 'pods', ref.name);
    if (ref.uid !== pod.metadata.uid) {
      throw this.forbidden(req, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    if (pod.spec?.nodeName !== nodeName) throw this.forbidden(req, 'node requested token bound to a pod scheduled on a different node');
  }

  private lease(req: AdmissionRequest, nodeName: string): void {
    if (req.namespace !== NODE_LEASE_NAMESPACE) throw this.forbidden(req, `can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    const name = req.operation === 'CREATE' ? req.object?.metadata?.name : req.name;
    if (name !== nodeName) throw this.forbidden(req, 'can only access node lease with the same name as the requesting node');
  }
}
