/**
 * Which endpoints serve which traffic, after kube-proxy's CategorizeEndpoints: ready endpoints,
 * or — when none is ready — those still serving while terminating (so a rolling update drains
 * instead of refusing); "local" ones are on this node, for the Local traffic policies.
 */
import type { EndpointModel, ServicePortModel } from './model.ts';

export interface EndpointChoice {
  /** Every usable endpoint (policy Cluster). */
  all: EndpointModel[];
  /** Usable endpoints on this node (policy Local). */
  local: EndpointModel[];
  /** What traffic to the cluster IP uses (internalTrafficPolicy). */
  internal: EndpointModel[];
  /** What traffic to the node port uses (externalTrafficPolicy). */
  external: EndpointModel[];
}

function usable(eps: EndpointModel[]): EndpointModel[] {
  const ready = eps.filter((e) => e.ready);
  return ready.length > 0 ? ready : eps.filter((e) => e.serving && e.terminating);
}

export function chooseEndpoints(sp: ServicePortModel, nodeName: string): EndpointChoice {
  const all = usable(sp.endpoints);
  const local = usable(sp.endpoints.filter((e) => e.nodeName === nodeName));
  return {
    all, local,
    internal: sp.internalLocal ? local : all,
    external: sp.externalLocal ? local : all,
  };
}
