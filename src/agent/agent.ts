/**
 * The node agent (the kubelet's role, plus kube-proxy's): composes its parts, each in the folder of
 * what it does. Inside `berth up` it talks to the API in-process; as `berth agent` over HTTP — the
 * same code either way (only the Client differs). The data flow is drawn in README.md.
 *
 *   host network ─ service proxy ─ node runtime (drivers, images, image GC) ─ stream server
 *     ─ node registration ─ re-adoption ─ pod source (informer → one PodWorker per pod)
 *
 * Restart safety: running containers and pod networks are re-adopted before any pod is acted on;
 * containers and networks whose pod is gone are removed. Stopping leaves the pods running.
 */
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../apis/object.ts';
import { R, type Client } from '../client/client.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import type { Logger } from '../util/log.ts';
import { startImageGc } from './gc/image-gc.ts';
import { ImageService } from './images/image-service.ts';
import { DEFAULT_BRIDGE } from './network/cni-config.ts';
import { prepareHostNetwork } from './network/host-network.ts';
import type { BackendKind, NetworkBackend } from './network/backend.ts';
import { HostGwBackend } from './network/host-gw.ts';
import { VxlanBackend, vxlanDevice } from './network/vxlan.ts';
import { startNodeNetwork, type RunningNodeNetwork } from './network/node-network.ts';
import { awaitPodCidr } from './node/pod-cidr.ts';
import { ensureNodeNameFree } from './node/node-registration.ts';
import { startNodeProxy } from './network/node-proxy.ts';
import { PodNetwork } from './network/pod-network.ts';
import { netnsPrefixFor } from './network/netns.ts';
import { advertisedUrl, registerAgentNode } from './node/agent-node.ts';
import { csrServingIssuer, servingCertificateManager, servingNames, subjectAccessReviewAuthorizer, type ServingIssuer } from './node/serving-certificate.ts';
import { hostIPv4 } from './node/node-info.ts';
import { publishLocalPath } from './node/local-path-node.ts';
import { startStorageAgent } from './storage/storage-agent.ts';
import type { NodeRegistration } from './node/node-registration.ts';
import type { BackoffOptions } from './pod/backoff.ts';
import { EventRecorder, clientEventSink } from '../client/event-recorder.ts';
import type { RuntimeDriver } from './runtime/driver.ts';
import { runtimeHandlers, type DriverSettings } from './runtime/drivers.ts';
import { NodeRuntime } from './runtime/node-runtime.ts';
import { startAgentServer } from './streams/agent-server.ts';
import { startNodeMetrics } from './metrics/node-metrics.ts';
import { startTrafficSource } from './traffic/traffic-source.ts';
import { hostCgroupLayout } from './runtime/cgroups/index.ts';
import { DEFAULT_CGROUP_ROOT } from './worker/worker-deps.ts';
import { PodSource } from './worker/pod-source.ts';
import { PodWorker } from './worker/pod-worker.ts';
import { readoptPods } from './worker/readopt.ts';
import { RunnablePods, selfFencing } from './worker/fence-guard.ts';
import { WorkerStreamResolver } from './worker/stream-resolver.ts';
import { buildWorkerDeps } from './worker/worker-deps.ts';
import { WorkerTable } from './worker/worker-table.ts';

export interface AgentOptions {
  client: Client;
  nodeName: string;
  dataDir: string;
  log: Logger;
  /**
   * This node's pod range (node.spec.podCIDR). Absent: the one the control plane's node IPAM gives
   * the Node (the agent waits for it, node/pod-cidr.ts).
   */
  podCidr?: string;
  /**
   * The pod network across nodes: routes to other nodes' pods by `host-gw` or `vxlan`
   * (network/node-network.ts). Absent: a single-node cluster (berth up), nothing routed.
   */
  backend?: BackendKind;
  /** The whole cluster's pod range (gets an `unreachable` route). */
  clusterCidr: string;
  serviceCidr?: string;
  /** Berth's bridge on this host (default berth0); one per cluster when several run on one machine. */
  bridgeName?: string;
  /** Where the agent's stream server listens (logs, exec); port 0 picks one. */
  listen: { host: string; port: number };
  /**
   * The stream server's TLS (the kubelet's --client-ca-file and serving certificate): callers need a
   * certificate from `clientCA` (the cluster CA); the serving certificate comes from `issueServing`
   * (berth up: the cluster PKI) or, by default, a kubelet-serving CSR through `client`.
   */
  tls: { clientCA: string; issueServing?: ServingIssuer };
  /** RuntimeClass used when a pod names none; unset: each container's image decides (apis/runtime-annotation.ts). */
  defaultRuntimeClass?: string;
  clusterDNS?: string[];
  /** Run the nftables service proxy (default: when a service CIDR is given). */
  serviceProxy?: boolean;
  /** The service proxy's own client (kube-proxy's identity, system:kube-proxy); default: the agent's. */
  proxyClient?: Client;
  backoff?: BackoffOptions;
  /** Per runtime handler: its settings (e.g. the program's path), or false to run this node without it. */
  drivers?: Record<string, DriverSettings | false | undefined>;
  /** Registry for short image names (default docker.io) and registries reached over plain HTTP. */
  images?: { defaultRegistry?: string; insecureRegistries?: string[] };
  /** Called as the agent comes up, for `berth up`'s progress lines. */
  progress?: (step: string) => void;
  /** The cgroup pods' cgroups are made below (default `berth`); one per agent when several share a machine. */
  cgroupRoot?: string;
  /** Resource metrics sampling interval (default 10 s); 0 turns sampling off (benchmarks compare). */
  metricsIntervalMs?: number;
  /** Where this node's local-path volumes live (default `<dataDir>/storage`), announced on its Node. */
  localPathDir?: string;
  /**
   * Self-fencing: stateful pods' containers die this many seconds after the last successful Lease
   * renewal (worker/fence-guard.ts). Absent or 0: off (berth up's single node).
   */
  fenceAfterSeconds?: number;
  /** A storage node: runs glusterd and holds replicas of replicated volumes (storage/). */
  storage?: boolean;
}

export interface RunningAgent {
  url: string;
  registration: NodeRegistration;
  drivers: Map<string, RuntimeDriver>;
  workers: WorkerTable<PodWorker>;
  /** This node's pod range (given, or from node IPAM). */
  podCidr: string;
  /** The pod network across nodes, when a backend runs. */
  nodeNetwork?: RunningNodeNetwork;
  /**
   * Stops watching and serving; running containers keep running (they are re-adopted on start), and
   * routes to other nodes stay (traffic keeps flowing across a restart) unless `removeNetwork`.
   */
  stop(opts?: { removeNetwork?: boolean }): Promise<void>;
  /** Terminates every pod's containers and network (tests, `--cleanup`). */
  terminateAll(): Promise<void>;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { client, log, nodeName, dataDir } = opts;
  const progress = opts.progress ?? (() => {});
  const bridgeName = opts.bridgeName ?? DEFAULT_BRIDGE;
  const hostIP = nodeAddress(opts.listen.host, bridgeName);
  // First: another live agent under this name is refused before anything is read or set up for it.
  await ensureNodeNameFree(client, { nodeName, dataDir, log });
  const podCidr = opts.podCidr ?? await awaitPodCidr({ client, nodeName, clusterCidr: opts.clusterCidr, log });
  const backend: NetworkBackend | undefined = opts.backend === 'vxlan' ? new VxlanBackend(hostIP, podCidr, bridgeName)
    : opts.backend === 'host-gw' ? new HostGwBackend(hostIP) : undefined;
  await prepareHostNetwork({ clusterCidr: opts.clusterCidr, podCidr, serviceCidr: opts.serviceCidr, bridgeName, multiNode: !!backend });
  progress('host network checked');
  const informers = new InformerFactory(client, { log });
  informers.start();
  const proxyInformers = opts.proxyClient ? new InformerFactory(opts.proxyClient, { log }) : informers;
  if (proxyInformers !== informers) proxyInformers.start();
  const proxy = opts.serviceCidr && opts.serviceProxy !== false
    ? await startNodeProxy({ informers: proxyInformers, nodeName, serviceCidr: opts.serviceCidr, clusterCidr: opts.clusterCidr, bridgeName, log })
    : undefined;
  if (proxy) progress('service proxy synced');

  // The image store is the one `berth image` opens (<agent data dir>/images).
  const images = await ImageService.open(dataDir, opts.images ?? {});
  const runtime = new NodeRuntime({ dataDir, images, client, nodeName, defaultRuntimeClass: opts.defaultRuntimeClass, settings: opts.drivers, log });
  // Over VXLAN pods get the device's MTU, so nothing they send needs fragmenting on the way.
  const mtu = backend?.kind === 'vxlan' ? await VxlanBackend.podMtu(hostIP) : undefined;
  const netnsPrefix = netnsPrefixFor(bridgeName);
  const network = new PodNetwork({ dataDir, nodePodCidr: podCidr, log, bridgeName, netnsPrefix, mtu });
  const workers = new WorkerTable<PodWorker>();
  const fencing = selfFencing({ afterSeconds: opts.fenceAfterSeconds, dataDir, client, nodeName, workers, log });
  // Under disk pressure, images no pod here uses go (the kubelet's image GC; 85 % by default).
  const imageGc = startImageGc({ images, dir: join(dataDir, 'images'), log, inUse: () => workers.images() });
  // Resource metrics and the agent's own (metrics/README.md); drivers and pulls are timed from here on.
  const nodeMetrics = startNodeMetrics({
    nodeName, dataDir, layout: hostCgroupLayout(), cgroupRoot: opts.cgroupRoot ?? DEFAULT_CGROUP_ROOT, workers, log,
    drivers: runtime.drivers, images, intervalMs: opts.metricsIntervalMs,
  });
  // Observed connections for the UI's map (traffic/README.md), served as GET /traffic.
  const traffic = startTrafficSource(nodeName, log, { hostNetworkPods: () => nodeMetrics.hostNetworkPods() });
  nodeMetrics.metrics.countSampler('traffic', () => traffic.cost());
  const server = await startAgentServer({
    host: opts.listen.host, port: opts.listen.port, resolver: new WorkerStreamResolver(workers, netnsPrefix),
    tls: { clientCA: opts.tls.clientCA, nodeName, authorize: subjectAccessReviewAuthorizer(client) }, metrics: nodeMetrics.source,
    traffic: () => traffic.report(),
  });
  const recorder = podEventRecorder(client, nodeName, log);
  const deps = buildWorkerDeps({
    client, nodeName, hostIP, dataDir, network, log, runtime, images,
    recorder, backoff: opts.backoff, clusterDNS: opts.clusterDNS, cgroupRoot: opts.cgroupRoot, fence: fencing.spec,
    // The kubelet's service lister: KUBERNETES_SERVICE_HOST and the service links in every container's env.
    services: informers.forResource(R.services),
  });
  const newWorker = (pod: KubeObject) => new PodWorker(pod, deps);

  const registration = await registerAgentNode(client, { nodeName, podCidr, serverUrl: server.url, hostIP, runtimeHandlers: runtimeHandlers(), dataDir, log, fence: fencing.node });
  progress(`node ${nodeName} registered`);
  // Routes to other nodes' pods before this node's pods start (their first packets may go there).
  const nodeNetwork = backend
    ? await startNodeNetwork({ client, informers, nodeName, clusterCidr: opts.clusterCidr, backend, log: log.child({ component: 'node-network' }) })
    : undefined;
  if (nodeNetwork) progress(`pod network across nodes (${backend!.kind})`);
  // Before any pod: the local-path provisioner reads the directory from the Node.
  await publishLocalPath(client, nodeName, opts.localPathDir ?? join(dataDir, 'storage'), log);
  // Before any pod: a pod here may mount a replicated volume whose chores fall to this node.
  const storage = opts.storage ? await startStorageAgent({ client, informers, nodeName, hostIP, dataDir, log }) : undefined;
  // The serving certificate: after registration, since a CSR is approved against the Node's addresses.
  const serving = servingCertificateManager({
    nodeName, dataDir, ca: opts.tls.clientCA, log, onRotate: (pair) => server.setCertificate(pair),
    names: servingNames(advertisedUrl(server.url, hostIP), hostIP, hostname()),
    issue: opts.tls.issueServing ?? csrServingIssuer(client, log),
  });
  const servingReady = keepTrying(async () => server.setCertificate(await serving.start()), 'serving certificate', log);
  // Issued in-process it is there at once; a CSR waits for approval and signing while pods start.
  if (opts.tls.issueServing) await servingReady.first;
  // Re-adopt what an earlier agent left running, then follow the pods bound here.
  // Pods moved away (gone, elsewhere, fenced) are stopped before the heartbeat is armed (fence-guard.ts).
  const podInformer = informers.forResource(R.pods, { fieldSelector: `spec.nodeName=${nodeName}` });
  await podInformer.synced();
  nodeMetrics.watchPods(podInformer);
  const pods = new RunnablePods(podInformer, nodeName, log);
  await readoptPods({ pods: pods.list(), workers, newWorker, network, drivers: runtime.drivers.values(), log, nodeName });
  fencing.arm();
  progress(`${workers.size} pod(s) re-adopted`);
  const source = new PodSource(pods, workers, newWorker);
  source.start();
  progress('agent ready');

  return {
    url: server.url, registration, drivers: runtime.drivers, workers, podCidr, nodeNetwork,
    async stop(stopOpts = {}) {
      servingReady.stop();
      serving.stop();
      source.stop();
      storage?.stop();
      imageGc.stop();
      nodeMetrics.stop();
      traffic.stop();
      if (stopOpts.removeNetwork) await nodeNetwork?.remove().catch((err) => log.warn('pod network removal failed', { error: String(err) }));
      else nodeNetwork?.stop();
      void registration.stop();
      // A clean stop leaves no service rules behind; the next start rebuilds them from the API.
      await proxy?.stop({ cleanup: true }).catch((err) => log.warn('service proxy cleanup failed', { error: String(err) }));
      if (proxyInformers !== informers) proxyInformers.stop();
      informers.stop();
      await server.close();
      await recorder.close();
    },
    async terminateAll() {
      for (const w of workers) w.remove();
      await Promise.all([...workers].map((w) => w.done));
    },
  };
}

/**
 * This node's address (its InternalIP, and what other nodes route to): the stream server's listen
 * address when it is a concrete one, else the host's first address that is not Berth's own bridge or
 * VXLAN device (a restarted agent must not pick the pod gateway).
 */
function nodeAddress(listenHost: string, bridge: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(listenHost) && listenHost !== '0.0.0.0' && !listenHost.startsWith('127.')) return listenHost;
  const own = new Set([bridge, vxlanDevice(bridge)]);
  const ifaces = Object.fromEntries(Object.entries(networkInterfaces()).filter(([name]) => !own.has(name) && !name.startsWith('veth')));
  return hostIPv4(ifaces);
}

/** The agent's pod events (Created, Started, BackOff, Unhealthy, …), from the kubelet on this node. */
function podEventRecorder(client: Client, nodeName: string, log: Logger): EventRecorder {
  return new EventRecorder({ sink: clientEventSink(client), source: { component: 'kubelet', host: nodeName }, log });
}

/**
 * Runs `fn` until it succeeds, every 10 s after a failure (logged), until stopped; `first` settles
 * with the first attempt (rejecting if that one failed).
 */
function keepTrying(fn: () => Promise<unknown>, what: string, log: Logger): { first: Promise<unknown>; stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = (): Promise<unknown> => fn().catch((err) => {
    log.warn(`${what} not obtained; trying again in 10 s`, { error: (err as Error).message });
    if (!stopped) timer = setTimeout(() => void attempt(), 10_000);
    throw err;
  });
  const first = attempt();
  first.catch(() => {});
  return { first, stop() { stopped = true; clearTimeout(timer); } };
}
