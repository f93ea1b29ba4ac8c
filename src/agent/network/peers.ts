/**
 * The other nodes as the pod network sees them (what flannel reads from its subnet leases, here
 * from Node objects): each one's pod range (spec.podCIDRs, inside the cluster CIDR only — a range
 * outside it is never routed, so a Node object cannot steer the host's other traffic), the address
 * its pods are reached through, and the VXLAN endpoint it published. Pure: Node objects in, peers out.
 */
import { cidrContains, parseCidr } from '../../apis/cidr.ts';
import type { KubeObject } from '../../apis/object.ts';

/** The node's address other nodes send to (flannel's public-ip); defaults to its InternalIP. */
export const PUBLIC_IP_ANNOTATION = 'berth.dev/public-ip';
/** The MAC address of the node's VXLAN device (flannel's backend-data VtepMAC). */
export const VXLAN_MAC_ANNOTATION = 'berth.dev/vxlan-mac';
/** Which backend the node runs (flannel's backend-type). */
export const BACKEND_ANNOTATION = 'berth.dev/network-backend';

export interface PeerNode {
  name: string;
  /** Its pod range, inside the cluster CIDR. */
  podCidr: string;
  /** Where its pods are reached: the public-ip annotation, else its InternalIP. */
  nodeIP: string;
  /** Its VXLAN device's MAC, when it runs the vxlan backend. */
  vtepMac?: string;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** The node's first pod range (podCIDRs, else podCIDR). */
export function podCidrOf(node: KubeObject): string | undefined {
  const list: unknown = node.spec?.podCIDRs;
  if (Array.isArray(list) && typeof list[0] === 'string' && list[0]) return list[0];
  return typeof node.spec?.podCIDR === 'string' && node.spec.podCIDR ? node.spec.podCIDR : undefined;
}

/** The node's InternalIP (IPv4). */
export function internalIPOf(node: KubeObject): string | undefined {
  const addrs: { type?: string; address?: string }[] = Array.isArray(node.status?.addresses) ? node.status.addresses : [];
  return addrs.find((a) => a.type === 'InternalIP' && IPV4.test(a.address ?? ''))?.address;
}

/** Every node but `self` with a pod range inside `clusterCidr` and an address; sorted by name. */
export function peersFromNodes(nodes: Iterable<KubeObject>, self: string, clusterCidr: string): PeerNode[] {
  const cluster = parseCidr(clusterCidr, true);
  const out: PeerNode[] = [];
  for (const node of nodes) {
    const name = node.metadata.name;
    if (!name || name === self || node.metadata.deletionTimestamp) continue;
    const podCidr = podCidrOf(node);
    if (!podCidr) continue;
    try {
      const c = parseCidr(podCidr, true);
      if (!cidrContains(cluster, c) || c.prefix === cluster.prefix) continue;
    } catch {
      continue;
    }
    const ann = node.metadata.annotations ?? {};
    const publicIP = ann[PUBLIC_IP_ANNOTATION];
    const nodeIP = publicIP && IPV4.test(publicIP) ? publicIP : internalIPOf(node);
    if (!nodeIP) continue;
    const mac = ann[VXLAN_MAC_ANNOTATION]?.toLowerCase();
    out.push({ name, podCidr, nodeIP, ...(mac && MAC.test(mac) ? { vtepMac: mac } : {}) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
