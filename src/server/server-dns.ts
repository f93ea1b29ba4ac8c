/**
 * The cluster DNS of `berth server` (what CoreDNS behind kube-dns is to a kubeadm cluster): the
 * embedded DNS server on the server's advertise address, port 53 — an address every node routes to —
 * behind the kube-dns ClusterIP. A pod on any node asks 10.43.0.10; its node's service proxy DNATs
 * that to a server address, and the node masquerades it on the way out (agent egress guard), so the
 * server answers the node. With several servers each runs one, and kube-dns lists every live server
 * (the addresses of the `default/kubernetes` endpoints, which the servers keep from their Leases),
 * refreshed every 10 s. Names outside the cluster go to `--dns-upstream`.
 *
 *   pod (any node) ─▶ 10.43.0.10:53 ─DNAT─▶ <server address>:53 ─▶ embedded DNS (informers)
 */
import { R, type Client } from '../client/client.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { dnsInformers } from '../dns/informer-feed.ts';
import { startDnsServer } from '../dns/server.ts';
import type { Logger } from '../util/log.ts';
import { ensureDnsService } from './dns-service.ts';
import { KUBERNETES_SERVICE } from './kubernetes-service.ts';

export interface ServerDnsOptions {
  /** The DNS server's reads, as the kube-dns ServiceAccount. */
  dnsClient: Client;
  /** Writes the kube-dns Service and endpoints (the server itself). */
  client: Client;
  serviceCidr: string;
  /** The server's advertise address: where the DNS listens. */
  address: string;
  upstreams?: string[];
  clusterDomain?: string;
  log: Logger;
  refreshMs?: number;
}

export interface ServerDns {
  close(): Promise<void>;
}

/** The addresses of the live API servers (the kubernetes Endpoints), or none. */
async function liveServers(client: Client): Promise<string[]> {
  try {
    const ep = await client.get(R.endpoints, KUBERNETES_SERVICE.namespace, KUBERNETES_SERVICE.name);
    return (ep.subsets ?? []).flatMap((s: { addresses?: { ip: string }[] }) => (s.addresses ?? []).map((a) => a.ip));
  } catch {
    return [];
  }
}

/** berth-server.ts's call: the DNS unless the advertise address is loopback (no node could reach it). */
export async function startClusterDns(dns: { upstreams?: string[] }, o: Omit<ServerDnsOptions, 'upstreams'>): Promise<ServerDns | undefined> {
  if (o.address.startsWith('127.') || o.address === '::1' || o.address === 'localhost') {
    o.log.info('no cluster DNS: the server advertises a loopback address no node reaches (listen on a routable address for one)');
    return undefined;
  }
  try {
    return await startServerDns({ ...o, upstreams: dns.upstreams, log: o.log.child({ component: 'dns' }) });
  } catch (err) {
    // Another server on this address has port 53 (two servers on one host): it answers for both.
    o.log.warn('no cluster DNS in this server', { address: `${o.address}:53`, error: (err as Error).message });
    return undefined;
  }
}

export async function startServerDns(o: ServerDnsOptions): Promise<ServerDns> {
  const factory = new InformerFactory(o.dnsClient, { log: o.log });
  const dns = await startDnsServer({
    informers: dnsInformers(factory), listen: { host: o.address, port: 53 }, clusterDomain: o.clusterDomain,
    upstreams: o.upstreams, logger: o.log,
  });
  factory.start();
  await factory.waitForSync();
  const refresh = async () => {
    const servers = await liveServers(o.client);
    // This server until the kubernetes endpoints name it (its Lease is written at start).
    await ensureDnsService(o.client, o.serviceCidr, servers.includes(o.address) ? servers : [...servers, o.address]);
  };
  await refresh();
  const timer = setInterval(() => { refresh().catch((err) => o.log.warn('kube-dns endpoints not updated', { error: String(err) })); }, o.refreshMs ?? 10_000);
  timer.unref();
  o.log.info('cluster DNS', { listen: `${o.address}:53` });
  return {
    async close() {
      clearInterval(timer);
      await dns.close();
      factory.stop();
    },
  };
}
