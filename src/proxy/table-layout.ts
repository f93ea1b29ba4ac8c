/**
 * The fixed part of the proxy's table: hooks, dispatch chains, the verdict maps the per-service
 * chains hang from, and masquerading. Written whole on a full sync only; incremental syncs touch
 * just map elements and per-service chains (see service-rules.ts and transaction.ts).
 *
 * Priorities: the filter checks run just before DNAT (-110 = dstnat - 10) so a port with no endpoints is
 * rejected at once; the cluster-IP check runs after DNAT (forward, output dstnat + 10) so it only
 * sees traffic that no service rule rewrote. (nft 1.0 only accepts the name `dstnat` in prerouting, hence numbers.)
 */
import type { ProxyContext } from './model.ts';

/** `clusterIP . proto . port : verdict` → service (or local) chain. */
export const SERVICE_IPS = 'service-ips';
/** `proto . nodePort : verdict` → external chain; matched for any local destination address. */
export const SERVICE_NODEPORTS = 'service-nodeports';
/** `clusterIP . proto . port : verdict` → reject (no endpoints) or drop (none local). */
export const NO_ENDPOINT_SERVICES = 'no-endpoint-services';
/** `proto . nodePort : verdict`, as above for node ports. */
export const NO_ENDPOINT_NODEPORTS = 'no-endpoint-nodeports';
/** Every cluster IP in use; other ports on them are rejected. */
export const CLUSTER_IPS = 'cluster-ips';
/** `endpoint . endpoint`: a connection DNATed back to its own source is masqueraded. */
export const HAIRPIN = 'hairpin';

export const MARK_FOR_MASQUERADE = 'mark-for-masquerade';
export const REJECT_CHAIN = 'reject-chain';
/** The packet-mark bit asking postrouting to masquerade (kube-proxy uses the same bit). */
export const MASQ_BIT = '0x00004000';

/** The dynamic maps and sets, with their declarations. */
export const DYNAMIC_MAPS: Record<string, string> = {
  [SERVICE_IPS]: '{ type ipv4_addr . inet_proto . inet_service : verdict; }',
  [SERVICE_NODEPORTS]: '{ type inet_proto . inet_service : verdict; }',
  [NO_ENDPOINT_SERVICES]: '{ type ipv4_addr . inet_proto . inet_service : verdict; }',
  [NO_ENDPOINT_NODEPORTS]: '{ type inet_proto . inet_service : verdict; }',
  [CLUSTER_IPS]: '{ type ipv4_addr; }',
  [HAIRPIN]: '{ type ipv4_addr . ipv4_addr; }',
};

interface StaticChain {
  name: string;
  /** Base-chain declaration, e.g. `{ type nat hook output priority -100; policy accept; }`. */
  hook?: string;
  rules: string[];
}

/** Base chains and helper chains, in declaration order (helpers first, so jumps resolve). */
export function staticChains(ctx: ProxyContext): StaticChain[] {
  return [
    { name: MARK_FOR_MASQUERADE, rules: [`meta mark set meta mark | ${MASQ_BIT}`] },
    {
      name: 'masquerading', rules: [
        // A host process reaching a node port on 127.0.0.1 (route_localnet): the loopback source
        // cannot leave the host, so it is always rewritten.
        'ip saddr 127.0.0.0/8 oifname != "lo" ct status dnat masquerade fully-random',
        `ct status dnat ip saddr . ip daddr @${HAIRPIN} masquerade fully-random`,
        `meta mark & ${MASQ_BIT} == 0 return`,
        `meta mark set meta mark ^ ${MASQ_BIT}`,
        'masquerade fully-random',
      ],
    },
    // A TCP reset comes from the service address itself and always reaches a pod; the ICMP error a
    // forwarded packet gets was seen lost on the way back to pods on the bridge.
    { name: REJECT_CHAIN, rules: ['meta l4proto tcp reject with tcp reset', 'reject'] },
    {
      name: 'services', rules: [
        `ip daddr . meta l4proto . th dport vmap @${SERVICE_IPS}`,
        `fib daddr type local meta l4proto . th dport vmap @${SERVICE_NODEPORTS}`,
      ],
    },
    { name: 'service-endpoints-check', rules: [`ip daddr . meta l4proto . th dport vmap @${NO_ENDPOINT_SERVICES}`] },
    { name: 'nodeport-endpoints-check', rules: [`fib daddr type local meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS}`] },
    {
      name: 'cluster-ips-check', rules: [
        `ip daddr @${CLUSTER_IPS} meta l4proto tcp reject with tcp reset comment "no such port on this cluster IP"`,
        `ip daddr @${CLUSTER_IPS} reject comment "no such port on this cluster IP"`,
        `ip daddr ${ctx.serviceCidr} meta l4proto tcp reject with tcp reset comment "unallocated cluster IP"`,
        `ip daddr ${ctx.serviceCidr} reject comment "unallocated cluster IP"`,
      ],
    },
    {
      name: 'localnet-guard', rules: [
        // route_localnet makes 127/8 routable: refuse such destinations arriving from outside,
        // unless they are replies to (or part of) a connection this proxy DNATed.
        'iifname != "lo" ip daddr 127.0.0.0/8 ct status & dnat == 0 ct state != { established, related } drop',
      ],
    },
    { name: 'filter-input', hook: '{ type filter hook input priority -110; policy accept; }', rules: ['jump localnet-guard', 'ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'] },
    { name: 'filter-forward', hook: '{ type filter hook forward priority -110; policy accept; }', rules: ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'] },
    { name: 'filter-output', hook: '{ type filter hook output priority -110; policy accept; }', rules: ['ct state new jump service-endpoints-check'] },
    { name: 'filter-output-post-dnat', hook: '{ type filter hook output priority -90; policy accept; }', rules: ['ct state new jump cluster-ips-check'] },
    { name: 'nat-prerouting', hook: '{ type nat hook prerouting priority dstnat; policy accept; }', rules: ['jump services'] },
    { name: 'nat-output', hook: '{ type nat hook output priority -100; policy accept; }', rules: ['jump services'] },
    { name: 'nat-postrouting', hook: '{ type nat hook postrouting priority srcnat; policy accept; }', rules: ['jump masquerading'] },
  ];
}
