/**
 * What the hollow kubelets keep of a bound pod: the few fields the pod syncer and runningPodStatus
 * read (name, namespace, uid, resourceVersion, deletionTimestamp; nodeName, hostNetwork, the
 * containers' names, images and restart policies; phase, podIP, startTime, the conditions' type,
 * status and transition time, the container statuses' name and readiness) — the pod informer's
 * transform (client-go's SetTransform, as a kubelet-like client that needs little of the object).
 * The default form (managedFields trimmed, then what pods repeat of each other shared,
 * client/object-intern.ts) walked the whole pod twice for each of its events: ~9 % of the
 * simulator's CPU while bench sched binds, for fields nothing here reads; the view is also smaller.
 */
import type { KubeObject } from '../apis/object.ts';

interface Container { name?: string; image?: string; restartPolicy?: string }
interface Condition { type?: string; status?: string; lastTransitionTime?: string }
interface ContainerStatus { name?: string; ready?: boolean }

const containerView = (c: Container): Container => (c.restartPolicy === undefined ? { name: c.name, image: c.image } : { name: c.name, image: c.image, restartPolicy: c.restartPolicy });

/** The pod syncer's view of `pod`: new objects throughout, `pod` left as it is (other watchers may share it). */
export function simPodView(pod: KubeObject): KubeObject {
  const m = pod.metadata ?? {};
  const metadata: KubeObject['metadata'] = { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion };
  if (m.deletionTimestamp) metadata.deletionTimestamp = m.deletionTimestamp;
  const view: KubeObject = { apiVersion: pod.apiVersion, kind: pod.kind, metadata };
  const spec = pod.spec;
  if (spec) {
    const s: Record<string, unknown> = { nodeName: spec.nodeName };
    if (spec.hostNetwork) s.hostNetwork = true;
    if (Array.isArray(spec.containers)) s.containers = spec.containers.map(containerView);
    if (Array.isArray(spec.initContainers)) s.initContainers = spec.initContainers.map(containerView);
    view.spec = s;
  }
  const status = pod.status;
  if (status) {
    const s: Record<string, unknown> = {};
    if (status.phase !== undefined) s.phase = status.phase;
    if (status.podIP !== undefined) s.podIP = status.podIP;
    if (status.startTime !== undefined) s.startTime = status.startTime;
    if (Array.isArray(status.conditions)) {
      s.conditions = status.conditions.map((c: Condition) => ({ type: c.type, status: c.status, lastTransitionTime: c.lastTransitionTime }));
    }
    if (Array.isArray(status.containerStatuses)) s.containerStatuses = status.containerStatuses.map((c: ContainerStatus) => ({ name: c.name, ready: c.ready }));
    view.status = s;
  }
  return view;
}
