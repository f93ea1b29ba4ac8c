/**
 * Keeps pod traffic on the machine. The CNI bridge plugin turns on IPv4 forwarding, and Berth does
 * not masquerade, so without this a pod's packet to an outside address would be forwarded out of a
 * host interface with its pod source address. Berth's own nftables table rejects anything that
 * arrives from its bridge and would leave through another interface; pod ↔ pod and pod ↔ host
 * traffic (the bridge itself, INPUT) is untouched. Applied atomically with `nft -f`.
 *
 * On a node of a multi-node cluster (a backend routes other nodes' pod ranges) two kinds of pod
 * traffic may leave through the node's interface or VXLAN device: to the cluster CIDR (other nodes'
 * pods, not masqueraded: pods see each other's real addresses), and connections the service proxy
 * DNATed to an endpoint outside it (an API server or the cluster DNS on a server host) — those are
 * masqueraded to the node's address, as flannel's ip-masq does for traffic leaving the pod network,
 * since the server host has no route back to pod addresses — and replies to connections opened
 * towards a pod from outside (a node port on another node, masqueraded to that node's address).
 * Anything a pod itself opens towards any other address is still refused.
 */
import { runCommand } from '../../host/spawner.ts';

export const EGRESS_TABLE = 'berth-egress';

/** One table per bridge, so clusters side by side on one machine keep their own guard. */
export function egressTable(bridge: string): string {
  return bridge === 'berth0' ? EGRESS_TABLE : `${EGRESS_TABLE}-${bridge}`;
}

/** What may leave on a multi-node cluster's node (see the file comment). */
export interface ClusterEgress {
  /** Every node's pods. */
  clusterCidr: string;
  /** This node's pods (the source of what is masqueraded). */
  nodePodCidr: string;
}

export function egressRuleset(bridge: string, cluster?: ClusterEgress): string {
  const table = egressTable(bridge);
  const out = `iifname "${bridge}" oifname != "${bridge}"`;
  return [
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    ...(cluster ? [
      `    ${out} ip daddr ${cluster.clusterCidr} accept`,
      `    ${out} ct status dnat accept`,
      // Replies of connections others opened to a pod (a node port on another node, masqueraded there).
      `    ${out} ct direction reply accept`,
    ] : []),
    `    ${out} counter reject with icmpx type admin-prohibited`,
    '  }',
    ...(cluster ? [
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat + 10; policy accept;',
      `    ip saddr ${cluster.nodePodCidr} ip daddr != ${cluster.clusterCidr} oifname != "${bridge}" ct status dnat counter masquerade fully-random`,
      '  }',
    ] : []),
    '}',
  ].join('\n') + '\n';
}

async function nft(input: string): Promise<void> {
  const r = await runCommand('nft', ['-f', '-'], { input });
  if (r.code !== 0) throw new Error(`nft failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Installs (or replaces) the egress guard for `bridge`. */
export async function ensureEgressGuard(bridge = 'berth0', cluster?: ClusterEgress): Promise<void> {
  await nft(egressRuleset(bridge, cluster));
}

/** Removes the guard (clean shutdown with cleanup). */
export async function removeEgressGuard(bridge = 'berth0'): Promise<void> {
  const table = egressTable(bridge);
  await nft(`table inet ${table} {}\ndelete table inet ${table}\n`);
}
