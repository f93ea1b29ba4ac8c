/**
 * The Node authorizer's graph (plugin/pkg/auth/authorizer/node/graph.go + graph_populator.go): which
 * objects each node may read because a pod bound to it uses them.
 *
 *   node ◀── pod ◀── secret | configmap | serviceaccount | pvc ◀── pv
 *
 * Kept as reverse indexes rather than a general graph: for each secret, configmap, PVC and
 * ServiceAccount, how many of the pods bound to each node reference it (so a decision is one lookup
 * however many pods share the object — upstream's destination-edge index for the same reason); for
 * each pod its node and references; for each PV the claim it is bound to (its claimRef). Fed from
 * informers (pods, persistentvolumes); unbound pods are not in the graph.
 */
import type { KubeObject } from '../../apis/object.ts';

/** The object kinds whose reads the Node authorizer restricts by relationship. */
export type VertexType = 'pod' | 'secret' | 'configmap' | 'pvc' | 'pv' | 'serviceaccount';

type RefType = 'secret' | 'configmap' | 'pvc' | 'serviceaccount';

/**
 * A bound pod's node and what it references, flat: type, name, type, name… (each pair once). Most pods
 * reference one ServiceAccount and nothing else, so a Map of four Sets per pod (what this was) cost
 * ~1 KB a pod — 150 MB at 150,000 pods — for a few strings (heap snapshot, bench/README.md scale).
 */
interface PodEntry {
  node: string;
  refs: readonly string[];
}

const NO_REFS: readonly string[] = Object.freeze([]);

/** The flat, de-duplicated reference list of `pod` (see PodEntry). */
function podRefs(pod: KubeObject): readonly string[] {
  const out: string[] = [];
  const add = (type: RefType, names: string[]) => {
    for (const n of names) {
      let dup = false;
      for (let i = 0; i < out.length && !dup; i += 2) dup = out[i] === type && out[i + 1] === n;
      if (!dup) out.push(type, n);
    }
  };
  add('secret', podSecretNames(pod));
  add('configmap', podConfigMapNames(pod));
  add('pvc', podClaimNames(pod));
  if (pod.spec?.serviceAccountName) add('serviceaccount', [pod.spec.serviceAccountName]);
  return out.length ? out : NO_REFS;
}

const key = (ns: string, name: string) => `${ns}/${name}`;

/** The containers of every kind a pod has (podutil.AllContainers). */
function containers(pod: KubeObject): any[] {
  const s = pod.spec ?? {};
  return [...(s.initContainers ?? []), ...(s.containers ?? []), ...(s.ephemeralContainers ?? [])];
}

/** The secret names a pod references (podutil.VisitPodSecretNames): pull secrets, env, volumes. */
export function podSecretNames(pod: KubeObject): string[] {
  const names: string[] = [];
  const add = (n: unknown) => { if (typeof n === 'string' && n) names.push(n); };
  for (const s of pod.spec?.imagePullSecrets ?? []) add(s?.name);
  for (const c of containers(pod)) {
    for (const e of c?.envFrom ?? []) add(e?.secretRef?.name);
    for (const e of c?.env ?? []) add(e?.valueFrom?.secretKeyRef?.name);
  }
  for (const v of pod.spec?.volumes ?? []) {
    add(v?.secret?.secretName);
    for (const p of v?.projected?.sources ?? []) add(p?.secret?.name);
    add(v?.azureFile?.secretName);
    for (const src of [v?.cephfs, v?.cinder, v?.flexVolume, v?.iscsi, v?.rbd, v?.scaleIO, v?.storageos]) add(src?.secretRef?.name);
    add(v?.csi?.nodePublishSecretRef?.name);
  }
  return names;
}

/** The config map names a pod references (podutil.VisitPodConfigmapNames). */
export function podConfigMapNames(pod: KubeObject): string[] {
  const names: string[] = [];
  const add = (n: unknown) => { if (typeof n === 'string' && n) names.push(n); };
  for (const c of containers(pod)) {
    for (const e of c?.envFrom ?? []) add(e?.configMapRef?.name);
    for (const e of c?.env ?? []) add(e?.valueFrom?.configMapKeyRef?.name);
  }
  for (const v of pod.spec?.volumes ?? []) {
    add(v?.configMap?.name);
    for (const p of v?.projected?.sources ?? []) add(p?.configMap?.name);
  }
  return names;
}

/** The PVC names a pod uses: its claims and the `<pod>-<volume>` claims of its ephemeral volumes. */
export function podClaimNames(pod: KubeObject): string[] {
  const names: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (typeof v?.persistentVolumeClaim?.claimName === 'string') names.push(v.persistentVolumeClaim.claimName);
    if (v?.ephemeral && typeof v.name === 'string') names.push(`${pod.metadata.name}-${v.name}`);
  }
  return names;
}

export class NodeGraph {
  private readonly pods = new Map<string, PodEntry>();
  /** ref type → `ns/name` → node → how many of that node's pods reference it. */
  private readonly users = new Map<RefType, Map<string, Map<string, number>>>();
  /** PV name → its claim (`ns/name`), and back. */
  private readonly pvClaim = new Map<string, string>();

  /** Adds or replaces a pod; an unbound pod (no spec.nodeName) is removed. */
  setPod(pod: KubeObject): void {
    const podKey = key(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    this.unlinkPod(podKey);
    const node = pod.spec?.nodeName;
    if (!node) return;
    const refs = podRefs(pod);
    this.pods.set(podKey, { node, refs });
    const ns = pod.metadata.namespace ?? '';
    for (let i = 0; i < refs.length; i += 2) {
      const type = refs[i] as RefType;
      let byName = this.users.get(type);
      if (!byName) this.users.set(type, (byName = new Map()));
      const k = key(ns, refs[i + 1]!);
      let byNode = byName.get(k);
      if (!byNode) byName.set(k, (byNode = new Map()));
      byNode.set(node, (byNode.get(node) ?? 0) + 1);
    }
  }

  deletePod(pod: KubeObject): void {
    this.unlinkPod(key(pod.metadata.namespace ?? '', pod.metadata.name ?? ''));
  }

  private unlinkPod(podKey: string): void {
    const entry = this.pods.get(podKey);
    if (!entry) return;
    this.pods.delete(podKey);
    const ns = podKey.slice(0, podKey.indexOf('/'));
    const refs = entry.refs;
    for (let i = 0; i < refs.length; i += 2) {
      const byName = this.users.get(refs[i] as RefType);
      const k = key(ns, refs[i + 1]!);
      const byNode = byName?.get(k);
      if (!byNode) continue;
      const left = (byNode.get(entry.node) ?? 1) - 1;
      if (left > 0) byNode.set(entry.node, left);
      else byNode.delete(entry.node);
      if (byNode.size === 0) byName!.delete(k);
    }
  }

  /** Adds or replaces a PV: its edge goes to the claim it is bound to (spec.claimRef). */
  setPV(pv: KubeObject): void {
    const ref = pv.spec?.claimRef;
    if (ref?.name && ref?.namespace) this.pvClaim.set(pv.metadata.name ?? '', key(ref.namespace, ref.name));
    else this.pvClaim.delete(pv.metadata.name ?? '');
  }

  deletePV(pv: KubeObject): void {
    this.pvClaim.delete(pv.metadata.name ?? '');
  }

  /** Is there a path from the object to the node: is it used by a pod bound to that node? */
  hasPath(nodeName: string, type: VertexType, namespace: string, name: string): boolean {
    if (type === 'pod') return this.pods.get(key(namespace, name))?.node === nodeName;
    if (type === 'pv') {
      const claim = this.pvClaim.get(name);
      if (!claim) return false;
      const i = claim.indexOf('/');
      return this.hasPath(nodeName, 'pvc', claim.slice(0, i), claim.slice(i + 1));
    }
    return (this.users.get(type)?.get(key(namespace, name))?.get(nodeName) ?? 0) > 0;
  }

  /** Sizes, for tests and metrics. */
  get size(): { pods: number; pvs: number } {
    return { pods: this.pods.size, pvs: this.pvClaim.size };
  }
}
