/**
 * `berth server`: the control plane in one process — store, registry, API server over TLS with
 * authentication, authorization and admission, and the control loops.
 *
 *   cluster PKI ─▶ openStore ─▶ Registry ─▶ security (authn, authz, admission) ─▶ createApiServer (HTTPS)
 *     ─▶ listen ─▶ security parts start ─▶ kubeconfig (CA + admin certificate) ─▶ /readyz ok
 *                   │
 *                   └─▶ control loops (namespace lifecycle, GC; every controller with `controllers`)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openStore, startCompactor } from '../storage/index.ts';
import { WatchCache } from '../storage/watch-cache/watch-cache.ts';
import type { Backend } from '../storage/backend.ts';
import { Registry } from '../registry/registry.ts';
import { serveCustomResources } from '../registry/apiextensions/crd-serving.ts';
import { resourceTypes } from '../registry/kinds/index.ts';
import { createApiServer } from '../api/server.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { ensureDefaultStorageClass, ensureSystemNamespaces, keepSystemNamespaces } from './bootstrap.ts';
import { ensureRuntimeClasses } from '../agent/node/runtime-classes.ts';
import { BERTH_VERSION } from '../version.ts';
import { LocalClient } from '../client/local-client.ts';
import { startControlLoops } from './control-loops.ts';
import { metricsRoute } from './metrics-route.ts';
import { countStoredObjects, instrumentBackend } from '../storage/storage-metrics.ts';
import type { Logger } from '../util/log.ts';
import { AllocationStore } from '../registry/allocation/allocation-store.ts';
import { ServiceAllocator } from '../registry/allocation/service-allocator.ts';
import { startAllocationRepair } from '../registry/allocation/allocation-repair.ts';
import type https from 'node:https';
import { nthAddress } from '../apis/cidr.ts';
import type { Authorizer, UserInfo } from '../auth/attributes.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { ensureClusterPki, type ClusterPki } from './cluster-pki.ts';
import { ensureSharedClusterPki } from './cluster-pki-share.ts';
import { defaultTolerationSecondsAdmission } from '../registry/admission/default-toleration-seconds.ts';
import { buildSecurity } from './security/security.ts';
import { admissionWebhooks } from './admission-webhooks.ts';
import { JOIN_TOKEN_FILE } from './security/parts/node.ts';
import { loadEncryptionConfig } from '../registry/encryption/encryption-config.ts';
import { encryptingBackend } from '../registry/encryption/encrypting-backend.ts';
import type { SecurityContext } from './security/security-part.ts';
import net from 'node:net';
import { hostIPv4 } from '../agent/node/node-info.ts';
import { serviceAccountKeys, TokenSigner } from '../auth/authn/service-account-token.ts';
import { startClusterDns } from './server-dns.ts';
import { CidrSet } from '../controllers/node-ipam/cidr-set.ts';
import { DEFAULT_NODE_CIDR_MASK_SIZE } from '../controllers/node-ipam/node-ipam-controller.ts';
import { DNS_USER } from './dns-service.ts';
import { uiServing } from './ui/ui-serving.ts';
import { ensureSystemPriorityClasses, priorityClassAdmission } from './priority-classes.ts';

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '';

export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
export const DEFAULT_NODE_PORT_RANGE = '30000-32767';

export interface ServerOptions {
  dataDir: string;
  host: string;
  port: number;
  /** `sqlite` or `etcd://host:port[,host:port…]`. */
  store: string;
  log: Logger;
  bookmarkIntervalMs?: number;
  /** Run every controller and the scheduler, under the leader Lease (the CLI turns this on). Off (tests of single parts), only namespace lifecycle and the GC run, with no Lease. */
  controllers?: boolean;
  nodeGracePeriodSeconds?: number;
  /** Terminated pods the pod GC keeps (--terminated-pod-gc-threshold; default 12,500). */
  terminatedPodGcThreshold?: number;
  /** Seconds before a replica on a node that is not Ready is rebuilt elsewhere (--replica-rebuild-delay; default 30). */
  replicaRebuildDelaySeconds?: number;
  /** tolerationSeconds DefaultTolerationSeconds admission gives pods for the not-ready / unreachable taints (default 30 each). */
  defaultTolerationSeconds?: { notReady?: number; unreachable?: number };
  /** ClusterIP range (default 10.43.0.0/16). */
  serviceCidr?: string;
  /** NodePort range (default 30000-32767). */
  nodePortRange?: string;
  /** More names and addresses for the serving certificate (`--tls-san`). */
  tlsSans?: string[];
  /**
   * Where pods and other servers reach this one: the `kubernetes` Service's endpoint, also named in
   * the serving certificate (kube-apiserver's --advertise-address). Default: the listen address, or
   * the host's address when that is a wildcard.
   */
  advertiseAddress?: string;
  /** Lists from memory (storage/watch-cache), kube-apiserver's `--watch-cache`; default on. */
  watchCache?: boolean;
  /** The scheduler on a worker thread of this process (`--scheduler-thread`, control-loops.ts); default on. */
  schedulerThread?: boolean;
  /** An EncryptionConfiguration file: the resources it names are encrypted at rest (`--encryption-provider-config`). */
  encryptionProviderConfig?: string;
  /**
   * The token the cluster's CA and ServiceAccount keys are sealed with in the store (--server-token-file;
   * cluster-pki-seal.ts). Absent: DATA/server-token's, made by the first server of a cluster.
   */
  serverToken?: string;
  /** Node IPAM: the pod range each Node gets a part of (`--cluster-cidr`), and the part's prefix length (`--node-cidr-mask-size`, 24). */
  clusterCidr?: string;
  nodeCidrMaskSize?: number;
  /** Run the cluster DNS on the advertise address behind kube-dns (server-dns.ts), forwarding other names to `upstreams`. */
  clusterDns?: { upstreams?: string[] };
  /**
   * bench/api-security.ts only — never set by the CLI or by tests: plain HTTP, every request as a
   * system:masters user, authorization skipped. It is the baseline that shows what TLS and the
   * authn/authz chain cost per request; a user-facing way to it would undo "secure by default".
   */
  insecureForBenchmark?: boolean;
}

/** Who every request is under insecureForBenchmark (what the admin certificate would say). */
const BENCHMARK_USER: UserInfo = { name: 'benchmark', groups: ['system:masters', 'system:authenticated'] };

export interface RunningServer {
  url: string;
  kubeconfigPath: string;
  registry: Registry;
  backend: Backend;
  pki: ClusterPki;
  /** Decides for in-process clients that act as a user (LocalClient.as). */
  authorizer: Authorizer;
  /** Serves the same API on one more address (berth up: the node's bridge gateway, for pods). */
  listenAlso(host: string): Promise<void>;
  /** How another machine joins as a node: `berth join --server https://<advertise address>:<port> --token-file DATA/join-token`. */
  joinCommand: string;
  /** The service allocation repair's pass at start has finished (a test that edits reservations waits for it). */
  allocationsRepaired: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The serving certificate followed by the CA: a joining node reads the CA from the handshake (not
 * trusting it yet) and checks it against its join token's hash, as kubeadm checks cluster-info.
 */
function servingChain(pki: ClusterPki): string {
  return pki.serving.cert + pki.ca.cert;
}

/** How often the certificates are checked for renewal (they are renewed with a third of their life left). */
const RENEW_CHECK_MS = 12 * 3600_000;

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { log } = opts;
  // How long each step of the start took (ms), logged with "API server ready".
  const phases: Record<string, number> = {};
  let phaseStart = performance.now();
  const phase = (name: string) => { const now = performance.now(); phases[name] = Math.round(now - phaseStart); phaseStart = now; };
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const serviceCidr = opts.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  // A cluster CIDR and mask size that cannot make node ranges are refused now, not at the first Node.
  if (opts.clusterCidr) new CidrSet(opts.clusterCidr, opts.nodeCidrMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE);
  const advertiseAddress = opts.advertiseAddress ?? (isWildcard(opts.host) ? hostIPv4() : opts.host);
  const pkiOptions = { dataDir: opts.dataDir, sans: [opts.host, advertiseAddress, ...(opts.tlsSans ?? [])], serviceIP: nthAddress(serviceCidr, 1) };
  const encryption = opts.encryptionProviderConfig ? loadEncryptionConfig(opts.encryptionProviderConfig) : undefined;
  const store = await openStore(opts.store, opts.dataDir);
  phase('store');
  // Every server on one store shares its CA and ServiceAccount key (cluster-pki-share.ts).
  let pki = await ensureSharedClusterPki(store, { ...pkiOptions, serverToken: opts.serverToken }, log);
  if (pki.renewed.length) log.info('certificates issued', { certificates: pki.renewed, ca: pki.caPin });
  phase('pki');
  // Store latency (etcd_request_duration_seconds) is timed on every call, encrypted or not.
  const listed = opts.watchCache === false ? store : new WatchCache(store, { log: log.child({ component: 'watch-cache' }) });
  const backend = instrumentBackend(encryption ? encryptingBackend(listed, encryption) : listed);
  log.info('store open', { store: opts.store.startsWith('etcd') ? opts.store : join(opts.dataDir, 'state.db') });
  if (encryption) log.info('encryption at rest', { resources: encryption.rules.map((r) => `${r.resources.join(',')}: ${r.transformer.writer}`) });
  const registry = new Registry(backend, resourceTypes());
  const stopCounting = countStoredObjects(backend, () => registry.types.map((t) => ({ resource: t.info.group ? `${t.info.plural}.${t.info.group}` : t.info.plural, prefix: `/registry/${t.info.group || 'core'}/${t.info.plural}/` })));
  // Every server serves the custom resources of Established CRDs (each watches the CRDs itself).
  const customResources = serveCustomResources(registry, log.child({ component: 'crd-serving' }));
  const serviceAllocator = new ServiceAllocator(new AllocationStore(backend), {
    serviceCidr, nodePortRange: opts.nodePortRange ?? DEFAULT_NODE_PORT_RANGE,
  });
  registry.store('', 'services')!.hooks = serviceAllocator;
  const systemClient = new LocalClient(registry);
  const securityContext: SecurityContext = {
    registry, client: systemClient, informers: new InformerFactory(systemClient, { log }), pki, dataDir: opts.dataDir,
    serviceCidr, advertiseAddress, port: opts.port, log: log.child({ component: 'security' }),
  };
  const security = buildSecurity(securityContext);
  const defaultTolerations = defaultTolerationSecondsAdmission({ notReadySeconds: opts.defaultTolerationSeconds?.notReady, unreachableSeconds: opts.defaultTolerationSeconds?.unreachable });
  // Admission webhooks run after Berth's own plugins of each phase, as upstream's are ordered last.
  registry.admission = security.admission.with(priorityClassAdmission(registry, securityContext.informers), defaultTolerations, ...admissionWebhooks(registry, securityContext.informers, log.child({ component: 'admission-webhooks' })));
  let ready = false;
  const ui = uiServing(systemClient, security.authorizer, () => ({ ca: pki.ca.cert, cert: pki.kubeletClient.cert, key: pki.kubeletClient.key }));
  const http = createApiServer({
    staticAssets: ui.staticAssets, routes: [...ui.routes, metricsRoute()],
    registry, version: BERTH_VERSION, ready: () => ready, bookmarkIntervalMs: opts.bookmarkIntervalMs, log: log.child({ component: 'api-server' }),
    ...(opts.insecureForBenchmark
      ? { authenticate: () => BENCHMARK_USER }
      : { tls: { cert: servingChain(pki), key: pki.serving.key, ca: pki.ca.cert }, authenticate: security.authenticate, authorize: security.authorizer }),
    agentTls: () => ({ ca: pki.ca.cert, cert: pki.kubeletClient.cert, key: pki.kubeletClient.key }),
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => { http.off('error', reject); resolve(); });
  });
  const addr = http.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${opts.insecureForBenchmark ? 'http' : 'https'}://${host}:${addr.port}`;
  securityContext.port = addr.port;
  phase('listen');
  await ensureSystemNamespaces(registry);
  // The RuntimeClasses of Berth's runtimes are the server's to make: a node's credential may only read them.
  await ensureRuntimeClasses(systemClient);
  await ensureDefaultStorageClass(registry);
  await ensureSystemPriorityClasses(registry, log);
  phase('bootstrap');
  await security.start();
  phase('security');
  const systemNamespaces = keepSystemNamespaces(registry, log);
  const compactor = startCompactor(backend, {});
  const repair = startAllocationRepair(backend, serviceAllocator, log);
  // Namespace lifecycle and the GC run even with controllers off (see control-loops.ts).
  const serviceAccountTokens = { rootCA: pki.ca.cert, signer: new TokenSigner(serviceAccountKeys(pki.serviceAccountKey.key, pki.serviceAccountKey.pub)) };
  // Each loop acts as its own user, authorized like a request (least privilege; control-loops.ts).
  const clientAs = (user: UserInfo) => systemClient.as({ user, authorizer: security.authorizer });
  const clusterSigning = { certFile: join(pki.dir, 'ca.crt'), keyFile: join(pki.dir, 'ca.key') };
  const loops = await startControlLoops(new LocalClient(registry), log, { controllers: !!opts.controllers, registry, nodeGracePeriodSeconds: opts.nodeGracePeriodSeconds, terminatedPodGcThreshold: opts.terminatedPodGcThreshold, replicaRebuildDelaySeconds: opts.replicaRebuildDelaySeconds, serviceAccountTokens, clientAs, clusterSigning, clusterCidr: opts.clusterCidr, nodeCidrMaskSize: opts.nodeCidrMaskSize, serviceCidr, agentTls: () => ({ ca: pki.ca.cert, cert: pki.kubeletClient.cert, key: pki.kubeletClient.key }), schedulerThread: opts.schedulerThread });
  phase('controllers');
  const kubeconfigPath = join(opts.dataDir, 'kubeconfig');
  const writeAdminKubeconfig = () => writeKubeconfig(kubeconfigPath, url, { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key });
  writeAdminKubeconfig();
  // Certificates are renewed in place: new connections get the new serving certificate, the
  // kubeconfig the new admin one.
  const renewal = setInterval(() => {
    void ensureClusterPki(pkiOptions).then((next) => {
      if (!next.renewed.length) return;
      pki = next;
      securityContext.pki = next;
      if (!opts.insecureForBenchmark) (http as https.Server).setSecureContext({ cert: servingChain(next), key: next.serving.key, ca: next.ca.cert });
      writeAdminKubeconfig();
      log.info('certificates renewed', { certificates: next.renewed });
    }).catch((err) => log.warn('certificate renewal failed', { error: String(err) }));
  }, RENEW_CHECK_MS);
  renewal.unref();
  const dns = opts.clusterDns ? await startClusterDns(opts.clusterDns, { client: systemClient, dnsClient: clientAs(DNS_USER), serviceCidr, address: advertiseAddress, log }) : undefined;
  await customResources.ready;
  phase('dns+crds');
  ready = true;
  log.info('API server ready', { url, kubeconfig: kubeconfigPath, ms: phases });
  const joinCommand = `berth join --server https://${advertiseAddress.includes(':') ? `[${advertiseAddress}]` : advertiseAddress}:${addr.port} --token-file ${join(opts.dataDir, JOIN_TOKEN_FILE)}`;
  // More addresses hand their connections to the one server (same TLS, same handlers).
  const extraListeners: net.Server[] = [];
  const listenAlso = async (extraHost: string): Promise<void> => {
    const l = net.createServer((socket) => http.emit('connection', socket));
    await new Promise<void>((resolve, reject) => {
      l.once('error', reject);
      l.listen(addr.port, extraHost, () => { l.off('error', reject); resolve(); });
    });
    extraListeners.push(l);
    log.info('API server also listening', { address: `${extraHost}:${addr.port}` });
  };
  let stopping: Promise<void> | undefined;
  return {
    listenAlso,
    url, kubeconfigPath, registry, backend, authorizer: security.authorizer, joinCommand, allocationsRepaired: repair.firstPass,
    get pki() { return pki; },
    stop() {
      stopping ??= (async () => {
        ready = false;
        clearInterval(renewal);
        await dns?.close();
        await loops.stop();
        await security.stop();
        systemNamespaces.stop();
        customResources.stop();
        compactor.stop();
        repair.stop();
        for (const l of extraListeners) l.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        stopCounting();
        await backend.close();
      })();
      return stopping;
    },
  };
}
