/**
 * The proxy's view of the cluster: one entry per Service port that needs rules, with the endpoints
 * that back it. Pure data, built from Services and EndpointSlices by build-model.ts and turned into
 * nftables text by ruleset.ts — nothing here touches the kernel.
 */

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One address:port of an EndpointSlice, for one service port. */
export interface EndpointModel {
  ip: string;
  port: number;
  /** `conditions.ready !== false`. */
  ready: boolean;
  /** `conditions.serving`, defaulting to `ready` as the API does. */
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
}

/** One port of one Service (ClusterIP, NodePort or LoadBalancer with a cluster IP). */
export interface ServicePortModel {
  namespace: string;
  name: string;
  /** `spec.ports[].name` ('' when the Service has a single unnamed port). */
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** Set for NodePort and LoadBalancer Services that were given one. */
  nodePort?: number;
  /** `sessionAffinity: ClientIP`: the affinity timeout in seconds; undefined without affinity. */
  affinitySeconds?: number;
  /** `internalTrafficPolicy: Local`. */
  internalLocal: boolean;
  /** `externalTrafficPolicy: Local` (meaningful with a node port). */
  externalLocal: boolean;
  /** Sorted by ip then port, so the same objects give the same rules. */
  endpoints: EndpointModel[];
}

/** Everything the proxy programs, keyed by {@link servicePortKey}. */
export type ProxyModel = Map<string, ServicePortModel>;

/** `namespace/name/protocol/portName`: unique per service port, stable across syncs. */
export function servicePortKey(sp: Pick<ServicePortModel, 'namespace' | 'name' | 'protocol' | 'portName'>): string {
  return `${sp.namespace}/${sp.name}/${sp.protocol}/${sp.portName}`;
}

/** Node-level settings that shape the rules. */
export interface ProxyContext {
  /** This node's name: endpoints with the same `nodeName` are local. */
  nodeName: string;
  /** The ClusterIP range; traffic to an unused address or port in it is rejected. */
  serviceCidr: string;
  /** Optional pod range: clusterIP traffic from outside it is masqueraded, as kube-proxy's --cluster-cidr. */
  clusterCidr?: string;
}
