/**
 * The service proxy (kube-proxy's job, src/proxy) as a part of the node agent: one nftables table
 * per bridge, so clusters side by side on one machine keep their own, reconciled from the API on
 * start; br_netfilter on, so a pod reaching a Service whose endpoint is on the same bridge gets its
 * replies un-NATed (bridge-netfilter.ts).
 */
import type { InformerFactory } from '../../client/informer-factory.ts';
import { DEFAULT_TABLE, startServiceProxy, type RunningServiceProxy } from '../../proxy/service-proxy.ts';
import type { Logger } from '../../util/log.ts';
import { ensureBridgeNetfilter } from './bridge-netfilter.ts';
import { DEFAULT_BRIDGE } from './cni-config.ts';

export interface NodeProxyOptions {
  /** Services and EndpointSlices come from here (the proxy starts its two informers). */
  informers: InformerFactory;
  nodeName: string;
  serviceCidr: string;
  clusterCidr: string;
  bridgeName: string;
  log: Logger;
}

/** The nftables table of the proxy on `bridge`: `berth-proxy` for the default bridge. */
export function proxyTable(bridge: string): string {
  return bridge === DEFAULT_BRIDGE ? DEFAULT_TABLE : `${DEFAULT_TABLE}-${bridge}`;
}

/** Starts the proxy; resolves once its first full sync is in the kernel. */
export async function startNodeProxy(o: NodeProxyOptions): Promise<RunningServiceProxy> {
  await ensureBridgeNetfilter(o.log);
  return startServiceProxy({
    informers: o.informers, nodeName: o.nodeName, serviceCidr: o.serviceCidr, clusterCidr: o.clusterCidr,
    table: proxyTable(o.bridgeName), logger: o.log.child({ component: 'service-proxy' }),
  });
}
