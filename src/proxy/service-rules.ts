/**
 * One service port → its Fragment: chains, affinity sets and map elements. Pure.
 *
 *   service-ips[clusterIP . proto . port] ─goto─▶ service-… (or local-… with internalTrafficPolicy Local)
 *   service-nodeports[proto . nodePort]    ─goto─▶ external-… ─▶ service-… / local-…
 *   service-… / local-…:  dnat ip addr . port to numgen random mod N map { 0 : ip . port, … }
 *   with ClientIP affinity, per endpoint instead:
 *     service-…:  ip saddr @affinity-E goto endpoint-E …; numgen random mod N vmap { 0 : goto endpoint-E, … }
 *     endpoint-E: update @affinity-E { ip saddr }; dnat to ip:port
 *   hairpin[endpoint . endpoint]: postrouting masquerades a pod DNATed back to itself.
 *
 * Endpoints live in map elements rather than one chain each (kube-proxy's layout) where no affinity
 * needs them: nft 1.0 lists every chain of the table before each transaction, so 10,000 endpoint
 * chains would cost ~50 ms on every single-endpoint change.
 *
 * No usable endpoint: no-endpoint-services / -nodeports get `goto reject-chain`; endpoints that a
 * Local policy rules out: `drop` (kube-proxy's choice: the service exists, just not here).
 */
import { chooseEndpoints } from './endpoint-select.ts';
import type { EndpointModel, ProxyContext, ServicePortModel } from './model.ts';
import { affinitySet, endpointChain, externalChain, localChain, serviceChain } from './names.ts';
import type { Fragment } from './table-state.ts';
import {
  CLUSTER_IPS, HAIRPIN, MARK_FOR_MASQUERADE, NO_ENDPOINT_NODEPORTS, NO_ENDPOINT_SERVICES, REJECT_CHAIN,
  SERVICE_IPS, SERVICE_NODEPORTS,
} from './table-layout.ts';

/** Rules of a chain picking one of `eps` at random (through endpoint chains with affinity). */
function balancerRules(sp: ServicePortModel, eps: EndpointModel[]): string[] {
  if (sp.affinitySeconds !== undefined) {
    const rules = eps.map((ep) => `ip saddr @${affinitySet(sp, ep, sp.affinitySeconds!)} goto ${endpointChain(sp, ep)}`);
    const arms = eps.map((ep, i) => `${i} : goto ${endpointChain(sp, ep)}`).join(', ');
    rules.push(`numgen random mod ${eps.length} vmap { ${arms} }`);
    return rules;
  }
  if (eps.length === 1) return [`meta l4proto ${sp.protocol} dnat to ${eps[0].ip}:${eps[0].port}`];
  const arms = eps.map((ep, i) => `${i} : ${ep.ip} . ${ep.port}`).join(', ');
  return [`meta l4proto ${sp.protocol} dnat ip addr . port to numgen random mod ${eps.length} map { ${arms} }`];
}

function endpointRules(sp: ServicePortModel, ep: EndpointModel, timeoutSeconds: number): string[] {
  return [`update @${affinitySet(sp, ep, timeoutSeconds)} { ip saddr }`, `meta l4proto ${sp.protocol} dnat to ${ep.ip}:${ep.port}`];
}

/** The key of a service port in the cluster-IP maps / node-port maps. */
function ipKey(sp: ServicePortModel): string {
  return `${sp.clusterIP} . ${sp.protocol} . ${sp.port}`;
}
function nodePortKey(sp: ServicePortModel): string {
  return `${sp.protocol} . ${sp.nodePort}`;
}

export function servicePortFragment(sp: ServicePortModel, ctx: ProxyContext): Fragment {
  const f: Fragment = { sets: [], chains: [], elements: [[CLUSTER_IPS, sp.clusterIP, '']] };
  const choice = chooseEndpoints(sp, ctx.nodeName);
  // No usable endpoint at all: reject. Some, but none this policy may use: drop.
  const noEndpoints = choice.all.length === 0 ? `goto ${REJECT_CHAIN}` : 'drop';
  const usedEndpoints = new Map<string, EndpointModel>();
  const balancer = (name: string, eps: EndpointModel[], extra: string[] = []) => {
    f.chains.push([name, [...extra, ...balancerRules(sp, eps)]]);
    for (const ep of eps) usedEndpoints.set(`${ep.ip}:${ep.port}`, ep);
  };
  // Cluster-IP traffic from outside the pod network is masqueraded, so replies come back here.
  const masqNonPods = ctx.clusterCidr
    ? [`ip daddr ${sp.clusterIP} ${sp.protocol} dport ${sp.port} ip saddr != ${ctx.clusterCidr} jump ${MARK_FOR_MASQUERADE}`]
    : [];
  const svc = serviceChain(sp);
  const local = localChain(sp);
  if (choice.all.length > 0) balancer(svc, choice.all, sp.internalLocal ? [] : masqNonPods);
  const needLocal = (sp.internalLocal || (sp.externalLocal && sp.nodePort !== undefined)) && choice.local.length > 0;
  if (needLocal) balancer(local, choice.local, sp.internalLocal ? masqNonPods : []);

  if (choice.internal.length > 0) f.elements.push([SERVICE_IPS, ipKey(sp), `goto ${sp.internalLocal ? local : svc}`]);
  else f.elements.push([NO_ENDPOINT_SERVICES, ipKey(sp), noEndpoints]);

  if (sp.nodePort !== undefined) {
    if (choice.external.length > 0) {
      const ext = externalChain(sp);
      const rules = sp.externalLocal
        ? [
          // From this host: the client address means nothing to keep; use any endpoint.
          `fib saddr type local jump ${MARK_FOR_MASQUERADE}`,
          `fib saddr type local goto ${svc}`,
          ...(ctx.clusterCidr ? [`ip saddr ${ctx.clusterCidr} goto ${svc}`] : []),
          `goto ${local}`,
        ]
        : [`jump ${MARK_FOR_MASQUERADE}`, `goto ${svc}`];
      f.chains.push([ext, rules]);
      f.elements.push([SERVICE_NODEPORTS, nodePortKey(sp), `goto ${ext}`]);
    } else {
      f.elements.push([NO_ENDPOINT_NODEPORTS, nodePortKey(sp), noEndpoints]);
    }
  }

  for (const ep of usedEndpoints.values()) {
    // A pod DNATed back to itself would answer itself directly: postrouting masquerades these pairs.
    f.elements.push([HAIRPIN, `${ep.ip} . ${ep.ip}`, '']);
    if (sp.affinitySeconds !== undefined) {
      f.chains.push([endpointChain(sp, ep), endpointRules(sp, ep, sp.affinitySeconds)]);
      f.sets.push([affinitySet(sp, ep, sp.affinitySeconds), `{ type ipv4_addr; flags dynamic,timeout; timeout ${sp.affinitySeconds}s; }`]);
    }
  }
  return f;
}
