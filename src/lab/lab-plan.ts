/**
 * The plan of a lab: every name and address a lab of N hosts uses, derived from its data directory,
 * so two labs on one machine never pick the same bridge, namespace, cgroup or pod namespace prefix
 * (kind names its node containers after the cluster for the same reason). Pure: no host is touched.
 *
 *   root netns: bridge <id> 198.18.<k>.1/24 ── berth server :6443 (D/server)
 *     ├── veth <id>v1 ══ eth0 198.18.<k>.11/24 [netns <id>-node-1] ── berth join (D/node-1, bridge <id>n1, 10.244.1.0/24)
 *     ├── veth <id>v2 ══ eth0 198.18.<k>.12/24 [netns <id>-node-2] ── …
 *     └── …
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

/** The benchmark range (RFC 2544) no real network uses; each lab takes one /24 of it. */
export const LAB_RANGE = '198.18.0.0/15';
/** Where every lab's cgroups live (one subtree per lab, one per node below it). */
export const LAB_CGROUP_ROOT = 'berth-lab';
export const SERVER_PORT = 6443;
export const AGENT_PORT = 10250;
/** Pod addresses of the whole lab cluster (a /24 per node). */
export const CLUSTER_CIDR = '10.244.0.0/16';
/** Berth's default service range: only the hosts route it, each in its own namespace, so it clashes with no other cluster here. */
export const SERVICE_CIDR = '10.43.0.0/16';
/**
 * false: the server's node IPAM gives each Node its podCIDR from CLUSTER_CIDR (recorded in the state
 * file once the Node is Ready). true: the lab hands them out itself, `--pod-cidr 10.244.<i>.0/24`
 * to each join (what it did before node IPAM).
 */
export const LAB_ASSIGNS_POD_CIDRS = false;
/** A /24 per lab: host .1 is the server, node i is .(10+i). */
export const MAX_NODES = 200;
export const BACKENDS = ['host-gw', 'vxlan'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface NodePlan {
  /** `node-<i>`: the Node's name and the host's short name in commands. */
  name: string;
  index: number;
  /** Network namespace of the host (`/run/netns/<netns>`). */
  netns: string;
  /** The bridge port in the root namespace (the host side of the host's veth). */
  hostVeth: string;
  /** The host's address on the lab bridge (its eth0). */
  address: string;
  /** The agent's own pod bridge inside the host; also names its nftables tables and pod namespaces. */
  podBridge: string;
  /** Prefix of its pods' network namespaces in /run/netns (as the agent derives it from its bridge). */
  podNetnsPrefix: string;
  /** The Node's spec.podCIDR: the lab's own when it assigns them, else the server's (after Ready). */
  podCidr?: string;
  /** cgroup (relative to every hierarchy's root) holding the agent and, below it, its pods. */
  cgroup: string;
  dataDir: string;
}

export interface LabPlan {
  /** `bl` + 5 hex digits of the data directory's hash. */
  id: string;
  dataDir: string;
  bridge: string;
  /** The lab's /24 and the server's address on it. */
  subnet: string;
  serverAddress: string;
  serverPort: number;
  serverUrl: string;
  serverDataDir: string;
  clusterCidr: string;
  serviceCidr: string;
  cgroup: string;
  nodes: NodePlan[];
}

/** The lab's id from its data directory (absolute): short enough for 15-character interface names. */
export function labId(dataDir: string): string {
  return 'bl' + createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 5);
}

/** Node `index` (1-based) of lab `id` on subnet 198.18.<octet>.0/24. */
export function nodePlan(id: string, dataDir: string, octet: number, index: number): NodePlan {
  const podBridge = `${id}n${index}`;
  return {
    name: `node-${index}`, index, netns: `${id}-node-${index}`, hostVeth: `${id}v${index}`,
    address: `198.18.${octet}.${10 + index}`, podBridge, podNetnsPrefix: `${podBridge}-`,
    podCidr: LAB_ASSIGNS_POD_CIDRS ? `10.244.${index}.0/24` : undefined, cgroup: `${LAB_CGROUP_ROOT}/${id}/node-${index}`,
    dataDir: resolve(dataDir, `node-${index}`),
  };
}

/** Everything a lab of `nodes` hosts in `dataDir` on 198.18.<octet>.0/24 is made of. */
export function planLab(dataDir: string, nodes: number, octet: number): LabPlan {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new Error(`--nodes must be a whole number from 1 to ${MAX_NODES}, got ${nodes}`);
  if (!Number.isInteger(octet) || octet < 0 || octet > 255) throw new Error(`no lab subnet 198.18.${octet}.0/24`);
  const dir = resolve(dataDir);
  const id = labId(dir);
  const serverAddress = `198.18.${octet}.1`;
  return {
    id, dataDir: dir, bridge: id, subnet: `198.18.${octet}.0/24`, serverAddress, serverPort: SERVER_PORT,
    serverUrl: `https://${serverAddress}:${SERVER_PORT}`, serverDataDir: resolve(dir, 'server'),
    clusterCidr: CLUSTER_CIDR, serviceCidr: SERVICE_CIDR, cgroup: `${LAB_CGROUP_ROOT}/${id}`,
    nodes: Array.from({ length: nodes }, (_, i) => nodePlan(id, dir, octet, i + 1)),
  };
}

/**
 * The first 198.18.<k>.0/24 (k from 0) that holds none of `taken` (addresses on this machine, as
 * `ip -j addr` lists them): another lab, or a test's own bridge, keeps its subnet.
 */
export function freeSubnetOctet(taken: string[]): number {
  const used = new Set<number>();
  for (const a of taken) {
    const m = /^198\.(18|19)\.(\d+)\./.exec(a);
    if (m && m[1] === '18') used.add(Number(m[2]));
  }
  for (let k = 0; k < 256; k++) if (!used.has(k)) return k;
  throw new Error('every 198.18.<k>.0/24 is in use on this machine: no subnet left for a lab');
}

export interface JoinOptions {
  backend?: Backend;
  dnsUpstream?: string;
  /** The node runs a storage daemon (`berth join --storage`, the replicated volumes' opt-in). */
  storage?: boolean;
  /** The server's join token file. */
  tokenFile: string;
}

/** `berth join …` for a host (the interface other tools rely on; run inside the host's namespace). */
export function joinArgs(lab: Pick<LabPlan, 'serverUrl' | 'clusterCidr' | 'serviceCidr'>, node: NodePlan, o: JoinOptions): string[] {
  return [
    'join', '--server', lab.serverUrl, '--token-file', o.tokenFile, '--node-name', node.name, '--data-dir', node.dataDir,
    '--listen', `${node.address}:${AGENT_PORT}`, '--cluster-cidr', lab.clusterCidr, '--service-cidr', lab.serviceCidr,
    ...(node.podCidr && LAB_ASSIGNS_POD_CIDRS ? ['--pod-cidr', node.podCidr] : []),
    '--bridge', node.podBridge, '--cgroup-root', `${node.cgroup}/pods`,
    ...(o.backend ? ['--backend', o.backend] : []),
    ...(o.dnsUpstream ? ['--dns-upstream', o.dnsUpstream] : []),
    ...(o.storage ? ['--storage'] : []),
  ];
}

/**
 * The server's timers a lab may set (seconds; unset: the server's default). Each is a `berth
 * server` flag of the same name, as kube-controller-manager's and kube-apiserver's are: a test of
 * a node's loss can wait less for what it observes without changing what is observed.
 */
export interface ServerTimers {
  /** `--node-monitor-grace-period`: silence before a node is NotReady. */
  nodeMonitorGracePeriod?: number;
  /** `--default-not-ready-toleration-seconds`: DefaultTolerationSeconds for the not-ready taint. */
  defaultNotReadyTolerationSeconds?: number;
  /** `--default-unreachable-toleration-seconds`: the same for the unreachable taint. */
  defaultUnreachableTolerationSeconds?: number;
  /** `--replica-rebuild-delay`: how long a replica on a node that is not Ready waits before it is rebuilt elsewhere. */
  replicaRebuildDelay?: number;
}

/** Each timer's flag (the order of the command line). */
export const SERVER_TIMER_FLAGS: { [K in keyof Required<ServerTimers>]: string } = {
  nodeMonitorGracePeriod: '--node-monitor-grace-period',
  defaultNotReadyTolerationSeconds: '--default-not-ready-toleration-seconds',
  defaultUnreachableTolerationSeconds: '--default-unreachable-toleration-seconds',
  replicaRebuildDelay: '--replica-rebuild-delay',
};

/** The flags of the timers that are set. */
export function serverTimerArgs(t: ServerTimers): string[] {
  return (Object.keys(SERVER_TIMER_FLAGS) as (keyof ServerTimers)[]).flatMap((k) => (t[k] !== undefined ? [SERVER_TIMER_FLAGS[k], String(t[k])] : []));
}

export interface ServerOptions extends ServerTimers {
  dnsUpstream?: string;
}

/** `berth server …` for the lab's control plane. */
export function serverArgs(lab: LabPlan, o: ServerOptions): string[] {
  return [
    'server', '--data-dir', lab.serverDataDir, '--listen', `${lab.serverAddress}:${lab.serverPort}`,
    '--cluster-cidr', lab.clusterCidr, '--service-cidr', lab.serviceCidr,
    ...serverTimerArgs(o),
    ...(o.dnsUpstream ? ['--dns-upstream', o.dnsUpstream] : []),
  ];
}

/** A node of the plan by name (`node-2`) or number (`2`); an error listing the lab's nodes otherwise. */
export function findNode<N extends { name: string }>(nodes: N[], which: string): N {
  const name = /^\d+$/.test(which) ? `node-${which}` : which;
  const n = nodes.find((x) => x.name === name);
  if (!n) throw new Error(`the lab has no node ${JSON.stringify(which)} (its nodes: ${nodes.map((x) => x.name).join(', ')})`);
  return n;
}
