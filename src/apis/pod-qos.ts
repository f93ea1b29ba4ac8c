/**
 * A pod's QoS class (pkg/apis/core/helper/qos GetPodQOS): BestEffort without any cpu/memory requests or
 * limits; Guaranteed when every container limits both cpu and memory and requests equal limits;
 * Burstable otherwise. Run after `defaultPod`, which copies limits into missing requests.
 */
import { isObject } from './object.ts';
import { tryParseQuantity } from './quantity.ts';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = ['cpu', 'memory'];

/** Computes the QoS class of a pod spec. */
export function podQOSClass(spec: Record<string, any> | undefined): QOSClass {
  const requests: Record<string, number> = {};
  const limits: Record<string, number> = {};
  let guaranteed = true;
  const containers = [...(Array.isArray(spec?.containers) ? spec.containers : []), ...(Array.isArray(spec?.initContainers) ? spec.initContainers : [])];
  for (const c of containers) {
    const res = isObject(c?.resources) ? c.resources : {};
    for (const name of QOS_RESOURCES) {
      const q = tryParseQuantity(res.requests?.[name]);
      if (q !== undefined && q > 0) requests[name] = (requests[name] ?? 0) + q;
    }
    const found = new Set<string>();
    for (const name of QOS_RESOURCES) {
      const q = tryParseQuantity(res.limits?.[name]);
      if (q !== undefined && q > 0) {
        found.add(name);
        limits[name] = (limits[name] ?? 0) + q;
      }
    }
    if (found.size < QOS_RESOURCES.length) guaranteed = false;
  }
  if (Object.keys(requests).length === 0 && Object.keys(limits).length === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of Object.entries(requests)) {
      // Sums of floats: compare with a relative tolerance rather than bit equality.
      if (Math.abs((limits[name] ?? 0) - req) > 1e-9 * Math.max(1, req)) guaranteed = false;
    }
    if (guaranteed && Object.keys(requests).length === Object.keys(limits).length) return 'Guaranteed';
  }
  return 'Burstable';
}
