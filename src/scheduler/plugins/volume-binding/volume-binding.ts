/**
 * VolumeBinding (pkg/scheduler/framework/plugins/volumebinding + the volume binder's FindPodVolumes):
 * a pod's PersistentVolumeClaims decide where it may run. Claims are resolved before the cycle from
 * the informer caches (claim-resolver.ts), so every phase here is synchronous:
 *
 *   preFilter  missing / deleting claim, or an unbound Immediate one ─▶ the pod fits nowhere
 *   filter     bound claim: the node must satisfy its PV's node affinity
 *              unbound WaitForFirstConsumer claim: an Available PV of its class the node reaches
 *              (smallest first), else provisioning there — the class has a provisioner, its
 *              allowedTopologies admit the node and, for local-path, the node holds what is asked
 *
 * What the filter chose for the winning node is done in PreBind (volume-binder.ts): PVs get their
 * claimRef, claims to provision get `volume.kubernetes.io/selected-node`, and the pod is bound only
 * once every claim is.
 */
import type { KubeObject } from '../../../apis/object.ts';
import { LOCAL_PATH_PROVISIONER, NO_PROVISIONER } from '../../../apis/volumes/annotations.ts';
import { claimSize, findMatchingVolume } from '../../../apis/volumes/volume-match.ts';
import { tryParseQuantity } from '../../../apis/quantity.ts';
import { failure, type Failure, type Plugin } from '../../framework.ts';
import { termsMatch, type SelectableNode } from '../../node-selector.ts';
import type { ResolvedClaim } from '../../pod-info.ts';

export const NAME = 'VolumeBinding';
/** volumebinding's reasons, as kube-scheduler words them. */
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_REASON_NOT_ENOUGH_SPACE = 'node(s) did not have enough free storage';
export const ERR_REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const ERR_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';

/** A node as the decision needs it: name, labels and the Node object (for its storage capacity). */
export interface VolumeNode extends SelectableNode {
  node?: KubeObject;
}

/** What binding the pod's volumes on one node takes. */
export interface NodeDecision {
  /** Static bindings: PV ← claim. */
  bindings: { pv: KubeObject; pvc: KubeObject }[];
  /** Claims to provision on the node. */
  provisions: KubeObject[];
}

function volumeFits(pv: KubeObject, node: VolumeNode): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  return !Array.isArray(terms) || termsMatch(terms, node);
}

/** A StorageClass's allowedTopologies admit the node (none: every node). */
function topologyAllows(sc: KubeObject, node: VolumeNode): boolean {
  const terms: any[] = Array.isArray(sc.allowedTopologies) ? sc.allowedTopologies : [];
  if (!terms.length) return true;
  return terms.some((t) => ((t?.matchLabelExpressions ?? []) as any[]).every((e) => (e?.values ?? []).includes(node.labels[e?.key])));
}

/**
 * The pod's volumes on `node` (FindPodVolumes): a decision, or the reasons the node cannot take them,
 * in kube-scheduler's order.
 */
export function decideForNode(claims: readonly ResolvedClaim[], node: VolumeNode): NodeDecision | string[] {
  let bindConflict = false;
  let nodeConflict = false;
  let pvMissing = false;
  const decision: NodeDecision = { bindings: [], provisions: [] };
  const excluded = new Set<string>();
  let localBytes = 0;
  for (const c of claims) {
    if (c.volumeMissing) pvMissing = true;
    if (c.nodeAffinity && !termsMatch(c.nodeAffinity, node)) nodeConflict = true;
    if (!c.delayed) continue;
    const { pvc, storageClass, candidates } = c.delayed;
    const pv = findMatchingVolume(pvc, candidates, { nodeFits: (v) => volumeFits(v, node), excluded, delayBinding: true });
    if (pv) {
      excluded.add(pv.metadata.name!);
      decision.bindings.push({ pv, pvc });
      continue;
    }
    const provisioner = storageClass.provisioner;
    if (!provisioner || provisioner === NO_PROVISIONER || !topologyAllows(storageClass, node)) {
      bindConflict = true;
      continue;
    }
    if (provisioner === LOCAL_PATH_PROVISIONER) localBytes += claimSize(pvc);
    decision.provisions.push(pvc);
  }
  const room = tryParseQuantity(node.node?.status?.capacity?.['ephemeral-storage']);
  const noSpace = localBytes > 0 && room !== undefined && localBytes > room;
  const reasons: string[] = [];
  if (bindConflict) reasons.push(ERR_REASON_BIND_CONFLICT);
  if (nodeConflict) reasons.push(ERR_REASON_NODE_CONFLICT);
  if (noSpace) reasons.push(ERR_REASON_NOT_ENOUGH_SPACE);
  if (pvMissing) reasons.push(ERR_REASON_PV_NOT_EXIST);
  return reasons.length ? reasons : decision;
}

/** The pod-level refusal of preFilter, if any. */
export function podLevelFailure(claims: readonly ResolvedClaim[]): Failure | undefined {
  const missing = claims.find((c) => c.missing);
  if (missing) return failure(NAME, `persistentvolumeclaim "${missing.claimName}" not found`, true);
  const deleting = claims.find((c) => c.deleting);
  if (deleting) return failure(NAME, `persistentvolumeclaim "${deleting.claimName}" is being deleted`, true);
  if (claims.some((c) => c.unboundImmediate)) return failure(NAME, ERR_UNBOUND_IMMEDIATE, true);
  return undefined;
}

/** Failures are shared per reason set, so the hot path allocates nothing new per node. */
const failures = new Map<string, Failure>();
function failureOf(reasons: string[]): Failure {
  const key = reasons.join('\n');
  let f = failures.get(key);
  if (!f) failures.set(key, (f = failure(NAME, reasons, true)));
  return f;
}

export function volumeBinding(): Plugin {
  return {
    name: NAME,
    preFilter(pod) {
      if (!pod.claimNames.length) return 'skip';
      const claims = pod.claims ?? [];
      const refused = podLevelFailure(claims);
      if (refused) return refused;
      if (!claims.some((c) => c.delayed || c.nodeAffinity || c.volumeMissing)) return 'skip';
    },
    filter(pod, node) {
      const d = decideForNode(pod.claims ?? [], node);
      return Array.isArray(d) ? failureOf(d) : null;
    },
  };
}
