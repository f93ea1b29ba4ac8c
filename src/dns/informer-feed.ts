/**
 * Connects the three informers DNS needs to a DnsIndex: every add / update / delete event is applied
 * to the index at once, so answers follow the API within one watch event, with no per-query listing.
 */
import { R } from '../client/client.ts';
import type { Informer } from '../client/controller-types.ts';
import type { InformerFactory } from '../client/informer-factory.ts';
import type { DnsIndex } from './record-index.ts';

export interface DnsInformers {
  services: Informer;
  endpointSlices: Informer;
  pods: Informer;
}

/** The shared Service, EndpointSlice (discovery.k8s.io/v1) and Pod informers of a factory. */
export function dnsInformers(factory: InformerFactory): DnsInformers {
  return { services: factory.forResource(R.services), endpointSlices: factory.forResource(R.endpointslices), pods: factory.forResource(R.pods) };
}

/**
 * Applies informer events to `index` (objects already cached are replayed at once by addHandlers).
 * Informers cannot drop a handler, so the returned function only mutes it.
 */
export function feedIndex(index: DnsIndex, inf: DnsInformers): () => void {
  let live = true;
  inf.services.addHandlers({
    add: (o) => live && index.upsertService(o),
    update: (_, o) => live && index.upsertService(o),
    delete: (o) => live && index.deleteService(o),
  });
  inf.endpointSlices.addHandlers({
    add: (o) => live && index.upsertSlice(o),
    update: (_, o) => live && index.upsertSlice(o),
    delete: (o) => live && index.deleteSlice(o),
  });
  inf.pods.addHandlers({
    add: (o) => live && index.upsertPod(o),
    update: (_, o) => live && index.upsertPod(o),
    delete: (o) => live && index.deletePod(o),
  });
  return () => { live = false; };
}
