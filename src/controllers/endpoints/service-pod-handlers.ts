/**
 * Informer wiring shared by the EndpointSlice and Endpoints controllers: a Service key is queued
 * when the Service changes, and when a pod it selects (before or after the change) changes; a sync
 * reads the pods a Service selects from the pod informer's label index (servicePods).
 */
import type { KubeObject } from '../../apis/object.ts';
import { keyOf, type InformerHandlers } from '../../client/controller-types.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { LABEL_INDEX, SELECTOR_INDEX, labelIndex, selectedBy, selectorIndex, selectorsFor } from '../label-index.ts';
import { selectorMatchesPod, serviceSelector } from './endpoint-build.ts';

/** Registers what servicePods reads on the pod informer. */
export function indexPodsByLabel(pods: SharedInformer): void {
  pods.addIndex(LABEL_INDEX, labelIndex);
}

/**
 * The pods of `svc`'s namespace its selector matches (none without a selector): the smallest label
 * bucket of its selector, not the namespace — the same pods as upstream's namespace list.
 */
export function servicePods(pods: SharedInformer, svc: KubeObject): KubeObject[] {
  const sel = serviceSelector(svc);
  if (!sel) return [];
  return selectedBy(pods, svc.metadata.namespace ?? '', sel, (p) => selectorMatchesPod(sel, p));
}

/** Services by one pair of their selector (selector-less ones select nothing: not filed). */
const serviceSelectorIndex = selectorIndex(serviceSelector);

export function podHandlers(services: SharedInformer, enqueue: (key: string) => void): InformerHandlers {
  services.addIndex(SELECTOR_INDEX, serviceSelectorIndex);
  // The Services that may select the pod, through its labels — not every Service of its namespace.
  const servicesOf = (pod: KubeObject) => {
    for (const svc of selectorsFor(services, pod, (s) => selectorMatchesPod(serviceSelector(s)!, pod))) enqueue(keyOf(svc));
  };
  return {
    add: servicesOf,
    update: (old, pod) => {
      // Only what endpoints are made of: labels, IP, readiness, phase, deletion, hostname, ports.
      if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
      servicesOf(pod);
      if (JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels)) servicesOf(old);
    },
    delete: servicesOf,
  };
}
