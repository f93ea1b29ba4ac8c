/**
 * `berth up`: a single-node cluster in one process — the control plane (startServer: API server,
 * controllers, scheduler) and a node agent — talking through the in-process client, no HTTP between
 * them.
 *
 *   startServer (API, controllers, scheduler) ─▶ LocalClient ─▶ node agent (pods → containers)
 *
 * The API server also listens on the node gateway (the bridge address) — the `kubernetes` Service's
 * endpoint when the API listens on loopback only — so pods reach it at its ClusterIP; the serving
 * certificate names that address.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from './berth-server.ts';
import { LocalClient } from '../client/local-client.ts';
import { startAgent, type AgentOptions, type RunningAgent } from '../agent/agent.ts';
import { issueCertificate, type KeyPairPem } from '../pki/certificates.ts';
import type { Logger } from '../util/log.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { startDnsServer } from '../dns/server.ts';
import { dnsInformers } from '../dns/informer-feed.ts';
import { nthAddress } from '../apis/cidr.ts';
import { DNS_USER, dnsServiceIP, ensureDnsService } from './dns-service.ts';
import type { UserInfo } from '../auth/attributes.ts';

export interface AllInOneOptions {
  dataDir: string;
  host: string;
  port: number;
  store: string;
  /** Lists from memory (`--watch-cache`, default on). */
  watchCache?: boolean;
  log: Logger;
  nodeName?: string;
  clusterCidr: string;
  podCidr: string;
  serviceCidr: string;
  nodePortRange?: string;
  bridgeName?: string;
  /** Upstream resolvers for names outside the cluster (`ip[:port]`; default: the host's resolv.conf). */
  dnsUpstreams?: string[];
  clusterDomain?: string;
  defaultRuntimeClass?: string;
  progress: (step: string) => void;
  /** Restart back-off base for crashing containers (tests shorten it). */
  backoffBaseMs?: number;
  /** Settings per runtime driver (false: run this node without that driver), and image registries. */
  drivers?: AgentOptions['drivers'];
  images?: AgentOptions['images'];
  /** More names for the API server's certificate (--tls-san). */
  tlsSans?: string[];
  /** An EncryptionConfiguration file (--encryption-provider-config). */
  encryptionProviderConfig?: string;
}

export interface AllInOne {
  server: RunningServer;
  agent: RunningAgent;
  nodeName: string;
  /** Stops everything; running pods keep running unless `terminatePods`. */
  stop(terminatePods?: boolean): Promise<void>;
}

/** A node agent's user, as its client certificate names it: `system:node:<name>` in system:nodes. */
export function nodeUser(nodeName: string): UserInfo {
  return { name: `system:node:${nodeName}`, groups: ['system:nodes', 'system:authenticated'] };
}

/** The service proxy's user, bound to system:node-proxier. */
export const KUBE_PROXY_USER: UserInfo = { name: 'system:kube-proxy', groups: ['system:authenticated'] };

/** A node's serving certificate issued by the cluster CA directly: what a kubelet-serving CSR would get. */
function issueNodeServingCertificate(ca: KeyPairPem, nodeName: string, names: { dnsNames: string[]; ipAddresses: string[] }): Promise<KeyPairPem> {
  return issueCertificate(ca, { commonName: `system:node:${nodeName}`, organizations: ['system:nodes'], ...names, usage: 'server', validityDays: 365 });
}

export async function startAllInOne(opts: AllInOneOptions): Promise<AllInOne> {
  const nodeName = (opts.nodeName ?? hostname()).toLowerCase();
  opts.progress('starting the API server');
  // Pods reach the API server behind the kubernetes Service's ClusterIP: on the node gateway (the
  // bridge address) when it listens on loopback only; else on its own address, which other machines'
  // agents reach too (the server's default for a wildcard is the host's address).
  const gateway = nthAddress(opts.podCidr, 1);
  const loopbackOnly = opts.host === 'localhost' || opts.host.startsWith('127.') || opts.host === '::1';
  const server = await startServer({ dataDir: opts.dataDir, host: opts.host, port: opts.port, store: opts.store, watchCache: opts.watchCache, log: opts.log, controllers: true, serviceCidr: opts.serviceCidr, nodePortRange: opts.nodePortRange, tlsSans: [...(opts.tlsSans ?? []), gateway], encryptionProviderConfig: opts.encryptionProviderConfig, advertiseAddress: loopbackOnly ? gateway : undefined });
  opts.progress(`API server on ${server.url}`);
  // Berth itself, for the kube-dns Service it owns; each component below acts as its own user,
  // authorized like a request (least privilege): the agent as its node, the proxy as kube-proxy.
  const client = new LocalClient(server.registry);
  const as = (user: UserInfo) => client.as({ user, authorizer: server.authorizer });
  let agent: RunningAgent;
  try {
    agent = await startAgent({
      client: as(nodeUser(nodeName)), proxyClient: as(KUBE_PROXY_USER), nodeName, dataDir: join(opts.dataDir, 'agent'), log: opts.log,
      podCidr: opts.podCidr, clusterCidr: opts.clusterCidr, serviceCidr: opts.serviceCidr, bridgeName: opts.bridgeName,
      listen: { host: '127.0.0.1', port: 0 }, defaultRuntimeClass: opts.defaultRuntimeClass,
      // The stream server's certificate straight from the cluster PKI this process holds (no CSR to itself).
      tls: { clientCA: server.pki.ca.cert, issueServing: (node, names) => issueNodeServingCertificate(server.pki.ca, node, names) },
      clusterDNS: [dnsServiceIP(opts.serviceCidr)],
      backoff: opts.backoffBaseMs ? { baseMs: opts.backoffBaseMs } : undefined,
      drivers: opts.drivers, images: opts.images,
      progress: opts.progress,
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  // The bridge exists now: the API server also listens on the gateway, unless it listens everywhere already.
  if (!['0.0.0.0', '::', '', gateway].includes(opts.host)) {
    try {
      await server.listenAlso(gateway);
    } catch (err) {
      await agent.stop();
      await server.stop();
      throw new Error(`API server on ${gateway}: ${(err as Error).message}`);
    }
  }
  // Cluster DNS on the node gateway (the bridge address every pod reaches), behind kube-dns's ClusterIP.
  const dnsFactory = new InformerFactory(as(DNS_USER), { log: opts.log });
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  try {
    dns = await startDnsServer({
      informers: dnsInformers(dnsFactory), listen: { host: gateway, port: 53 }, clusterDomain: opts.clusterDomain,
      upstreams: opts.dnsUpstreams, logger: opts.log.child({ component: 'dns' }),
    });
    dnsFactory.start();
    await dnsFactory.waitForSync();
    await ensureDnsService(client, opts.serviceCidr, gateway);
  } catch (err) {
    await agent.stop();
    await server.stop();
    throw new Error(`cluster DNS on ${gateway}:53: ${(err as Error).message}`);
  }
  opts.progress(`cluster DNS on ${gateway}:53 (kube-dns ${dnsServiceIP(opts.serviceCidr)})`);
  return {
    server, agent, nodeName,
    async stop(terminatePods = false) {
      if (terminatePods) await agent.terminateAll();
      await dns.close();
      dnsFactory.stop();
      await agent.stop();
      await server.stop();
    },
  };
}
