/**
 * The host's network made ready for a node's pods before anything else runs (what a kubelet leaves
 * to its CNI and kube-proxy set-up): Berth refuses CIDRs that overlap the machine's own networks,
 * routes the pod cluster CIDR nowhere and the service CIDR to its bridge (with the node gateway on
 * it), and rejects pod traffic that would leave the machine (egress-guard.ts).
 */
import { checkCidrs, ensureHostRoutes, gatewayCidrOf } from './host-guard.ts';
import { ensureEgressGuard } from './egress-guard.ts';

export interface HostNetworkOptions {
  /** The whole cluster's pod range (gets an `unreachable` route). */
  clusterCidr: string;
  /** This node's pod range (its first address is the gateway on the bridge). */
  podCidr: string;
  serviceCidr?: string;
  bridgeName: string;
  /** One node of several (a backend routes other nodes' pods): the egress guard lets cluster traffic out (egress-guard.ts). */
  multiNode?: boolean;
}

/** Checks, then installs (idempotently) routes, bridge address and egress guard; throws on an overlap before touching anything. */
export async function prepareHostNetwork(o: HostNetworkOptions): Promise<void> {
  await checkCidrs({ podCidr: o.clusterCidr, serviceCidr: o.serviceCidr, bridgeName: o.bridgeName });
  await ensureHostRoutes({ podClusterCidr: o.clusterCidr, serviceCidr: o.serviceCidr, bridgeName: o.bridgeName, gatewayCidr: gatewayCidrOf(o.podCidr) });
  await ensureEgressGuard(o.bridgeName, o.multiNode ? { clusterCidr: o.clusterCidr, nodePodCidr: o.podCidr } : undefined);
}
