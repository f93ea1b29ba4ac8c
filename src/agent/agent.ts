/**
 * The node agent: registers the Node, watches the pods bound to it, runs one PodWorker per pod, and
 * serves logs and exec. Inside `berth up` it talks to the API in-process; as `berth agent` over HTTP —
 * the same code either way (only the Client differs).
 *
 *   Client ──watch pods (spec.nodeName=me)──▶ PodWorker per pod ─▶ RuntimeDriver (process | runc)
 *                                                   │                PodNetwork (CNI) · volumes
 *   API server ─proxy─▶ agent-server (logs, exec) ──┘
 *
 * Restart safety: on start the agent re-adopts running containers (driver.recover) and pod networks
 * (PodNetwork.recover) before it acts; containers whose pod is gone are removed.
 */
import { join } from 'node:path';
import type { KubeObject } from '../apis/object.ts';
import type { Client, ClientWatch } from '../client/client.ts';
import { R } from '../client/client.ts';
import { isNotFound } from '../client/errors.ts';
import type { Logger } from '../util/log.ts';
import { errors } from '../errors/index.ts';
import type { RuntimeDriver } from './runtime/driver.ts';
import { ProcessDriver } from './runtime/process/index.ts';
import { RuncDriver } from './runtime/runc/index.ts';
import { ImageService } from './images/image-service.ts';
import { PodImagePuller } from './worker/image-pull.ts';
import { startImageGc } from './gc/image-gc.ts';
import { runtimeOverride } from '../apis/runtime-annotation.ts';
import { PodNetwork } from './network/pod-network.ts';
import { checkCidrs, ensureHostRoutes, gatewayCidrOf } from './network/host-guard.ts';
import { DEFAULT_BRIDGE } from './network/cni-config.ts';
import { netnsExists, netnsName, netnsPath } from './network/netns.ts';
import { ensureEgressGuard } from './network/egress-guard.ts';
import { ensureBridgeNetfilter } from './network/bridge-netfilter.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { startServiceProxy, type RunningServiceProxy } from '../proxy/service-proxy.ts';
import { startAgentServer, type AgentServer } from './streams/agent-server.ts';
import { feedStdin } from './streams/attach-stdin.ts';
import { readLogs } from './streams/log-reader.ts';
import { PassThrough } from 'node:stream';
import { registerNode, type NodeRegistration } from './node/node-registration.ts';
import { ensureRuntimeClasses } from './node/runtime-classes.ts';
import { sampleMachine, hostIPv4 } from './node/node-info.ts';
import { CrashLoopBackoff, type BackoffOptions } from './pod/backoff.ts';
import { EventRecorder } from './pod/events.ts';
import { PodWorker } from './worker/pod-worker.ts';
import { parseContainerId } from './worker/container-spec.ts';
import type { WorkerDeps } from './worker/worker-deps.ts';

import { AGENT_URL_ANNOTATION } from '../apis/well-known.ts';

export interface AgentOptions {
  client: Client;
  nodeName: string;
  dataDir: string;
  log: Logger;
  /** This node's pod range (node.spec.podCIDR). */
  podCidr: string;
  /** The whole cluster's pod range (gets an `unreachable` route). */
  clusterCidr: string;
  serviceCidr?: string;
  /** Berth's bridge on this host (default berth0); one per cluster when several run on one machine. */
  bridgeName?: string;
  /** Where the agent's stream server listens (logs, exec); port 0 picks one. */
  listen: { host: string; port: number };
  /** RuntimeClass used when a pod names none. */
  defaultRuntimeClass: string;
  clusterDNS?: string[];
  /** Run the nftables service proxy (default: when a service CIDR is given). */
  serviceProxy?: boolean;
  backoff?: BackoffOptions;
  /** The runc binary (default: `runc` in PATH); false runs this node without the runc runtime. */
  runcPath?: string | false;
  /** Registry for short image names (default docker.io) and registries reached over plain HTTP. */
  images?: { defaultRegistry?: string; insecureRegistries?: string[] };
  /** Called as the agent comes up, for `berth up`'s progress lines. */
  progress?: (step: string) => void;
}

export interface RunningAgent {
  url: string;
  registration: NodeRegistration;
  drivers: Map<string, RuntimeDriver>;
  /** Stops watching and serving; running containers keep running (they are re-adopted on start). */
  stop(): Promise<void>;
  /** Terminates every pod's containers and network (tests, `--cleanup`). */
  terminateAll(): Promise<void>;
  workers: Map<string, PodWorker>;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { client, log, nodeName } = opts;
  const progress = opts.progress ?? (() => {});
  const bridgeName = opts.bridgeName ?? DEFAULT_BRIDGE;
  await checkCidrs({ podCidr: opts.clusterCidr, serviceCidr: opts.serviceCidr, bridgeName });
  await ensureHostRoutes({ podClusterCidr: opts.clusterCidr, serviceCidr: opts.serviceCidr, bridgeName, gatewayCidr: gatewayCidrOf(opts.podCidr) });
  await ensureEgressGuard(bridgeName);
  progress('host network checked');
  // The service proxy (kube-proxy's job): its own nftables table per bridge, reconciled on start.
  let proxy: RunningServiceProxy | undefined;
  let proxyFactory: InformerFactory | undefined;
  if (opts.serviceCidr && opts.serviceProxy !== false) {
    await ensureBridgeNetfilter(log);
    proxyFactory = new InformerFactory(client, { log });
    const started = startServiceProxy({
      informers: proxyFactory, nodeName, serviceCidr: opts.serviceCidr, clusterCidr: opts.clusterCidr,
      table: bridgeName === DEFAULT_BRIDGE ? 'berth-proxy' : `berth-proxy-${bridgeName}`, logger: log.child({ component: 'service-proxy' }),
    });
    proxyFactory.start();
    proxy = await started;
    progress('service proxy synced');
  }
  const drivers = new Map<string, RuntimeDriver>();
  drivers.set('process', new ProcessDriver({ stateDir: join(opts.dataDir, 'runtime', 'process') }));
  // OCI containers: the image store is the one `berth image` opens (<agent data dir>/images).
  const images = await ImageService.open(opts.dataDir, opts.images ?? {});
  if (opts.runcPath !== false) {
    try {
      drivers.set('runc', new RuncDriver({ stateDir: join(opts.dataDir, 'runtime', 'runc', 'containers'), runcPath: opts.runcPath, images }));
    } catch (err) {
      log.warn('the runc runtime is not available on this node; pods that need it fail with CreateContainerError', { error: (err as Error).message });
    }
  }
  const network = new PodNetwork({ dataDir: opts.dataDir, nodePodCidr: opts.podCidr, log, bridgeName });
  const workers = new Map<string, PodWorker>();
  // Under disk pressure, images no pod here uses go (the kubelet's image GC; 85 % by default).
  const imageGc = startImageGc({
    images, dir: join(opts.dataDir, 'images'), log,
    inUse: () => [...workers.values()].flatMap((w) => [...(w.pod.spec?.initContainers ?? []), ...(w.pod.spec?.containers ?? [])].map((c: { image?: string }) => c.image ?? '')),
  });
  const byName = (ns: string, name: string) => [...workers.values()].find((w) => w.pod.metadata.namespace === ns && w.pod.metadata.name === name);

  const server: AgentServer = await startAgentServer({
    host: opts.listen.host, port: opts.listen.port,
    resolver: {
      async logPath(ns, pod, container, previous) {
        const w = byName(ns, pod);
        if (!w) throw errors.notFound('', 'pods', pod);
        const p = w.logPath(container, previous);
        if (!p) throw errors.badRequest(previous ? `previous terminated container "${container}" in pod "${pod}" not found` : `container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
        return p;
      },
      async exec(ns, pod, container, execOpts) {
        const w = byName(ns, pod);
        const inst = w?.instance(container);
        if (!w || !inst?.running || !inst.driver || !inst.id) throw errors.badRequest(`container ${container} is not running in pod ${pod}`);
        return inst.driver.exec(inst.id, execOpts);
      },
      async containerExited(ns, pod, container) {
        const inst = byName(ns, pod)?.instance(container);
        if (inst?.running && inst.driver && inst.id) await inst.driver.wait(inst.id).catch(() => {});
      },
      async attach(ns, pod, container, o) {
        const w = byName(ns, pod);
        if (!w) throw errors.notFound('', 'pods', pod);
        const inst = w.instance(container);
        if (!inst?.running || !inst.driver || !inst.id) throw errors.badRequest(`container ${container} is not running in pod ${pod}`);
        const { driver, id } = inst;
        // stdin: the container's own, a FIFO kept open when the container has `stdin: true`.
        const fifo = o.stdin && inst.spec.stdin ? driver.stdinPath?.(id) : undefined;
        if (o.stdin && !fifo) throw errors.badRequest(`container ${container} in pod ${pod} was not started with stdin: true, so its stdin cannot be attached; use kubectl attach without -i, or kubectl exec -i`);
        const file = w.logPath(container, false)!;
        // Output from now on, by record time (what stdin makes the command print comes after this
        // moment however fast it answers), until the instance exits or the client leaves.
        return (io) => {
          const sinceTime = new Date().toISOString();
          const once = !!inst.spec.stdinOnce && !inst.spec.tty;
          if (fifo && io.stdin) feedStdin(io.stdin, fifo, io.signal, once ? () => driver.releaseStdin?.(id) : undefined);
          if (inst.spec.tty) io.onResize?.((size) => driver.resize?.(id, size));
          return readLogs(file, { follow: true, sinceTime, until: driver.wait(id), stderr: io.stderr }, io.stdout ?? new PassThrough().resume(), io.signal);
        };
      },
      async portForwardTarget(ns, pod) {
        const w = byName(ns, pod);
        if (!w) throw errors.notFound('', 'pods', pod);
        if (!(w.pod.spec?.containers ?? []).some((c: { name: string }) => w.instance(c.name)?.running)) {
          throw errors.badRequest(`unable to forward port because pod is not running`);
        }
        if (w.pod.spec?.hostNetwork) return { uid: w.uid };
        // The pod network's namespace (PodNetwork above uses the default prefix).
        const name = netnsName(w.uid);
        if (!netnsExists(name)) throw errors.badRequest(`pod ${pod} has no network namespace`);
        return { uid: w.uid, netnsPath: netnsPath(name) };
      },
    },
  });
  const hostIP = hostIPv4() ?? '127.0.0.1';
  const runtimeClassCache = new Map<string, string>();
  async function handlerOf(className: string): Promise<string> {
    if (!runtimeClassCache.has(className)) {
      const rc = await client.get(R.runtimeclasses, undefined, className);
      runtimeClassCache.set(className, rc.handler);
    }
    return runtimeClassCache.get(className)!;
  }
  const lookup = {
    configMap: (ns: string, name: string) => client.get(R.configmaps, ns, name).catch(undefinedIfNotFound),
    secret: (ns: string, name: string) => client.get(R.secrets, ns, name).catch(undefinedIfNotFound),
  };
  const recorder = new EventRecorder({
    node: nodeName,
    sink: {
      create: (ns, ev) => client.create(R.events, ns, ev),
      patch: (ns, name, p) => client.patch(R.events, ns, name, 'merge', p),
    },
    onError: (err) => log.debug('event write failed', { error: String(err) }),
  });
  const deps: WorkerDeps = {
    client, nodeName, hostIP, dataDir: opts.dataDir, network, log, recorder,
    backoff: new CrashLoopBackoff(opts.backoff),
    lookup,
    volumeLookup: {
      pvc: (ns, name) => client.get(R.persistentvolumeclaims, ns, name).catch(undefinedIfNotFound),
      pv: (name) => client.get(R.persistentvolumes, undefined, name).catch(undefinedIfNotFound),
    },
    nodeAllocatable: undefined,
    clusterDNS: opts.clusterDNS ?? [],
    // Kubernetes' image pull back-off: 10 s doubling to 5 min (tests shrink it with the crash back-off).
    images: new PodImagePuller(images, recorder, lookup, { baseMs: opts.backoff?.baseMs ?? 10_000, capMs: opts.backoff?.capMs ?? 300_000 }),
    async pickDriver(pod: KubeObject, containerName: string): Promise<RuntimeDriver> {
      const override = runtimeOverride(pod.metadata.annotations, containerName);
      const handler = override ?? await handlerOf(pod.spec?.runtimeClassName ?? opts.defaultRuntimeClass);
      const d = drivers.get(handler);
      if (!d) throw new Error(`runtime handler "${handler}" is not available on node ${nodeName} (available: ${[...drivers.keys()].join(', ')})`);
      return d;
    },
  };
  await ensureRuntimeClasses(client);
  const registration = await registerNode(client, { nodeName, podCIDR: opts.podCidr, agentPort: Number(new URL(server.url).port), ready: () => true, dataDir: opts.dataDir, log });
  // Where the API server reaches this agent: a wildcard bind is advertised by the node's address.
  const advertised = server.url.replace(/\/\/(0\.0\.0\.0|\[::\]):/, `//${hostIP}:`);
  await client.patch(R.nodes, undefined, nodeName, 'merge', { metadata: { annotations: { [AGENT_URL_ANNOTATION]: advertised } } });
  progress(`node ${nodeName} registered`);

  // Re-adopt what an earlier agent left running, then follow the pods bound here.
  const initial = await client.list(R.pods, undefined, { fieldSelector: `spec.nodeName=${nodeName}` });
  const live = new Set(initial.items.map((p) => p.metadata.uid!));
  const nets = await network.recover();
  for (const pod of initial.items) {
    const w = new PodWorker(pod, deps);
    const net = nets.get(pod.metadata.uid!);
    if (net) w.adoptSandbox({ netnsPath: net.netnsPath, ip: net.ip });
    w.adoptCompletedInit();
    workers.set(pod.metadata.uid!, w);
  }
  for (const driver of drivers.values()) {
    for (const id of await driver.list()) {
      const parsed = parseContainerId(id);
      const w = parsed && workers.get(parsed.podUid);
      const handle = w ? await driver.recover(id).catch(() => undefined) : undefined;
      if (w && handle && parsed) w.adopt(parsed.name, driver, id, parsed.restartCount, handle);
      else await driver.destroy(id).catch((err) => log.warn('orphan container cleanup failed', { id, error: String(err) }));
    }
  }
  await network.cleanupOrphans(live);
  for (const w of workers.values()) w.schedule();
  progress(`${workers.size} pod(s) re-adopted`);

  let stopped = false;
  let watch: ClientWatch | undefined;
  const onPod = (type: string, pod: KubeObject) => {
    const uid = pod.metadata.uid!;
    let w = workers.get(uid);
    if (type === 'DELETED') { w?.remove(); return; }
    if (!w) {
      w = new PodWorker(pod, deps);
      workers.set(uid, w);
      void w.done.then(() => workers.delete(uid));
      w.schedule();
      return;
    }
    w.update(pod);
  };
  async function follow(resourceVersion: string): Promise<void> {
    while (!stopped) {
      let rv = resourceVersion;
      let failed = false;
      watch = await client.watch(R.pods, undefined, { fieldSelector: `spec.nodeName=${nodeName}`, resourceVersion: rv }, (ev) => {
        if (ev.type === 'ERROR') { failed = true; return; }
        if (ev.type === 'BOOKMARK') { rv = ev.object.metadata.resourceVersion!; return; }
        rv = ev.object.metadata.resourceVersion ?? rv;
        onPod(ev.type, ev.object);
      });
      await watch.done;
      if (stopped) return;
      if (failed) {
        // Too old: list again, reconcile deletions we missed, then watch from the list.
        const list = await client.list(R.pods, undefined, { fieldSelector: `spec.nodeName=${nodeName}` });
        const seen = new Set(list.items.map((p) => p.metadata.uid!));
        for (const [uid, w] of workers) if (!seen.has(uid)) w.remove();
        for (const p of list.items) onPod('MODIFIED', p);
        rv = list.resourceVersion;
      }
      resourceVersion = rv;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  for (const w of workers.values()) void w.done.then(() => workers.delete(w.uid));
  void follow(initial.resourceVersion).catch((err) => log.error('pod watch stopped', { error: String(err) }));
  progress('agent ready');

  return {
    url: server.url, registration, drivers, workers,
    async stop() {
      stopped = true;
      imageGc.stop();
      watch?.close();
      registration.stop();
      // A clean stop leaves no service rules behind; the next start rebuilds them from the API.
      await proxy?.stop({ cleanup: true }).catch((err) => log.warn('service proxy cleanup failed', { error: String(err) }));
      proxyFactory?.stop();
      await server.close();
    },
    async terminateAll() {
      for (const w of workers.values()) w.remove();
      await Promise.all([...workers.values()].map((w) => w.done));
    },
  };
}

function undefinedIfNotFound(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  throw err;
}
