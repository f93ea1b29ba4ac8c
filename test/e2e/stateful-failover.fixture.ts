/**
 * The stateful-failover suite's parts (issue 16), shared with bench/failover.ts: an unmodified
 * 3-member etcd (Debian's /usr/bin/etcd) as a StatefulSet of process pods — the shape of the etcd
 * examples for Kubernetes (a headless Service publishing not-ready addresses, peers by DNS name,
 * `--initial-cluster-state new` whose flags etcd ignores once its data dir holds a member) — each
 * process under member-wrapper.py, which logs its own launch/alive/exit times to a file on the host;
 * the cluster's view of the members and a node's loss and recovery. Talking to etcd itself (its
 * status, the writer that records every acknowledged key) is etcd-client.fixture.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpClient } from '../../src/client/http-client.ts';
import { R } from '../../src/client/client.ts';
import type { TestLab } from '../../src/lab/lab.fixture.ts';
import { ANN_REPLACE, ANN_VOLUME_STATE, bricksOf, healthOf, isReplicatedVolume } from '../../src/apis/volumes/replicated-volume.ts';
import { parsePool } from '../../src/agent/storage/gluster-cli.ts';
import { HEARTBEAT_FILE } from '../../src/apis/volumes/replicated.ts';
import { monotonicMs } from '../../src/agent/node/heartbeat.ts';
import { etcdStatus } from './etcd-client.fixture.ts';

const execFileP = promisify(execFile);

export const WRAPPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'member-wrapper.py');
export const ETCD = '/usr/bin/etcd';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface EtcdSetOptions {
  namespace: string;
  storageClass: string;
  /** Directory on the host (outside every pod volume) where each member's life log goes. */
  logDir: string;
  /** Annotations of the StatefulSet (e.g. ANN_REPLACE_WITH_EMPTY_VOLUME). */
  annotations?: Record<string, string>;
  name?: string;
}

/** The Services and the StatefulSet of a 3-member etcd; `name` defaults to `etcd`. */
export function etcdObjects(o: EtcdSetOptions): object[] {
  const name = o.name ?? 'etcd';
  const ns = o.namespace;
  const peer = (i: number) => `${name}-${i}=http://${name}-${i}.${name}.${ns}.svc.cluster.local:2380`;
  // $POD_NAME etc. are the shell's: the member's own name makes its flags.
  const script = [
    `exec python3 ${WRAPPER} ${o.logDir}/$POD_NAME.log -- ${ETCD}`,
    '--name $POD_NAME --data-dir /var/lib/etcd/data',
    '--listen-peer-urls http://0.0.0.0:2380 --listen-client-urls http://0.0.0.0:2379',
    `--initial-advertise-peer-urls http://$POD_NAME.${name}.${ns}.svc.cluster.local:2380`,
    `--advertise-client-urls http://$POD_NAME.${name}.${ns}.svc.cluster.local:2379`,
    `--initial-cluster ${[0, 1, 2].map(peer).join(',')} --initial-cluster-state new --initial-cluster-token ${name}-${ns}`,
    // etcd 3.5's default, off in Debian's 3.4: a member that rejoins behind (its volume stalled for
    // the engine's 5 s ping-timeout) cannot force elections — without it a kill once cost ~7 s of them.
    '--pre-vote',
  ].join(' ');
  return [
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
      // Peers must find each other before any is Ready: etcd needs a quorum to become ready at all.
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: name }, ports: [{ name: 'peer', port: 2380 }, { name: 'client', port: 2379 }] },
    },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: `${name}-client`, namespace: ns },
      spec: { type: 'NodePort', selector: { app: name }, ports: [{ name: 'client', port: 2379, targetPort: 2379 }] },
    },
    {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: ns, annotations: o.annotations ?? {} },
      spec: {
        serviceName: name, replicas: 3, podManagementPolicy: 'Parallel', selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            runtimeClassName: 'process', terminationGracePeriodSeconds: 5,
            affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: name } }, topologyKey: 'kubernetes.io/hostname' }] } },
            containers: [{
              name: 'etcd', image: 'host', command: ['sh', '-c', script],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              ],
              ports: [{ name: 'client', containerPort: 2379 }, { name: 'peer', containerPort: 2380 }],
              // Ready = this member answers /health, which etcd only does with a leader (a quorum).
              readinessProbe: { httpGet: { path: '/health', port: 2379 }, periodSeconds: 1, failureThreshold: 2 },
              volumeMounts: [{ name: 'data', mountPath: '/var/lib/etcd' }],
            }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: o.storageClass, resources: { requests: { storage: '256Mi' } } } }],
      },
    },
  ];
}

/** One line of a member's life log. */
export interface LifeRecord { ns: bigint; ms: number; event: 'launch' | 'start' | 'alive' | 'signal' | 'exit'; member: string; node: string; wrapperPid: number; childPid: number; life: string; extra: string }

export function readLifeLog(file: string): LifeRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [ns, event, member, node, wp, cp, life, extra = ''] = l.split(' ');
    return { ns: BigInt(ns), ms: Number(BigInt(ns) / 1_000_000n), event: event as LifeRecord['event'], member, node, wrapperPid: Number(wp), childPid: Number(cp), life, extra };
  });
}

/**
 * Each incarnation of a member (its life id: the pids are its pod's pid namespace's, the same in
 * every copy), in launch order, with its first and last record.
 */
export interface Incarnation { node: string; life: string; wrapperPid: number; childPid: number; launchMs: number; lastMs: number; exited: boolean }
export function incarnations(records: LifeRecord[]): Incarnation[] {
  const by = new Map<string, Incarnation>();
  for (const r of records) {
    const key = r.life;
    let inc = by.get(key);
    if (!inc) { inc = { node: r.node, life: r.life, wrapperPid: r.wrapperPid, childPid: r.childPid, launchMs: r.ms, lastMs: r.ms, exited: false }; by.set(key, inc); }
    inc.childPid ||= r.childPid;
    inc.lastMs = Math.max(inc.lastMs, r.ms);
    if (r.event === 'exit') inc.exited = true;
  }
  return [...by.values()].sort((a, b) => a.launchMs - b.launchMs);
}

/** Host pids of the processes of incarnation `life` (the wrapper and what it runs: BERTH_MEMBER_LIFE in their environment). */
export function hostPidsOfLife(life: string): number[] {
  const needle = Buffer.from(`BERTH_MEMBER_LIFE=${life}\0`);
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try { if (readFileSync(`/proc/${p}/environ`).includes(needle)) pids.push(Number(p)); } catch { /* gone, or a kernel thread */ }
  }
  return pids;
}

/**
 * Every live process on this machine of a member's incarnations (BERTH_MEMBER_LIFE and POD_NAME in
 * its environment), as `life@node pid command` — the lab's hosts share this machine's /proc.
 */
export function memberProcesses(member: string): string[] {
  const out: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const env = readFileSync(`/proc/${p}/environ`, 'utf8').split('\0');
      const life = env.find((e) => e.startsWith('BERTH_MEMBER_LIFE='))?.slice(18);
      if (!life || !env.includes(`POD_NAME=${member}`)) continue;
      const node = env.find((e) => e.startsWith('NODE_NAME='))?.slice(10) ?? '?';
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 2).join(' ');
      out.push(`${life}@${node} ${p} ${cmd}`);
    } catch { /* gone, or a kernel thread */ }
  }
  return out;
}

/**
 * What a failed loss needs to be explained (kept short): the member's container logs now and of
 * its previous run (its own words on why it exits), and which of its processes live on this machine
 * — an old copy still alive on the lost node would hold etcd's data-dir lock.
 */
export async function lossDiagnostics(view: ClusterView, ns: string, member: string): Promise<string> {
  const logs = async (previous: boolean) => {
    const r = await view.lab.kubectl(['logs', member, '-n', ns, '--tail=300', ...(previous ? ['--previous'] : [])], undefined, 15_000).catch((err) => ({ stdout: '', stderr: String(err) }));
    const all = (r.stdout + r.stderr).split('\n').filter(Boolean);
    // Why etcd stops is a critical/error/fatal line (capnslog's ` C | `, ` E | `, ` F | `) or a panic,
    // which a Go stack trace after it would push out of a plain tail.
    const why = all.slice(0, -6).filter((l) => / [CEF] \| |panic|fatal/i.test(l)).slice(-6);
    return [...why, ...(why.length ? ['…'] : []), ...all.slice(-6)].map((l) => l.slice(0, 300)).join('\n  ');
  };
  // The agent's own lines on the member, from each node's log (where it starts, mounts, stops it).
  const agents = view.lab.state().nodes.map((n) => {
    const file = path.join(view.lab.state().dataDir, n.name, 'agent.log');
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(member) && !/probe/i.test(l)).slice(-6) : [];
    return lines.length ? `--- ${n.name}'s agent on ${member}:\n  ${lines.map((l) => l.slice(0, 300)).join('\n  ')}` : '';
  }).filter(Boolean).join('\n');
  // The volume's FUSE client on the member's node (replicated-mount.ts: log-level WARNING): a lock, a
  // split-brain, a brick it cannot reach.
  const pod = (await view.members(ns).catch(() => [])).find((p) => p.name === member && !p.deleting);
  const fuseLog = pod && path.join(view.lab.state().dataDir, pod.node, 'pods', pod.uid, 'volumes', 'replicated', 'data.log');
  const fuse = fuseLog && existsSync(fuseLog) ? readFileSync(fuseLog, 'utf8').split('\n').filter(Boolean).slice(-8).map((l) => l.slice(0, 300)).join('\n  ') : '(none)';
  // Each node's self-fencing heartbeat (CLOCK_MONOTONIC ms of its last Lease renewal, this machine's
  // clock too): a stale one on the member's node makes its shim refuse to start the container.
  const beats = view.lab.state().nodes.map((n) => {
    const file = path.join(view.lab.state().dataDir, n.name, HEARTBEAT_FILE);
    const at = existsSync(file) ? Number(readFileSync(file, 'utf8')) : NaN;
    return `${n.name} ${Number.isFinite(at) ? `${((monotonicMs() - at) / 1000).toFixed(1)} s` : 'none'}`;
  }).join(', ');
  return `container logs (previous):\n  ${await logs(true)}\ncontainer logs (current):\n  ${await logs(false)}\n`
    + `self-fencing heartbeat ages: ${beats}\n`
    + `${member}'s processes (life@node pid command): ${JSON.stringify(memberProcesses(member))}\n${agents}\n`
    + `--- ${member}'s volume client on ${pod?.node ?? '?'}:\n  ${fuse}`;
}

/** A member as the API has it. */
export interface MemberPod { name: string; uid: string; node: string; ip: string; phase: string; ready: boolean; deleting: boolean; created: string; restarts: number }

export class ClusterView {
  readonly api: HttpClient;
  constructor(readonly lab: TestLab) { this.api = HttpClient.fromKubeconfig(lab.kubeconfig); }

  async members(namespace: string, app = 'etcd'): Promise<MemberPod[]> {
    const list = await this.api.list(R.pods, namespace, { labelSelector: `app=${app}` });
    return list.items.map((p: any) => ({
      name: p.metadata.name, uid: p.metadata.uid, node: p.spec?.nodeName ?? '', ip: p.status?.podIP ?? '', phase: p.status?.phase ?? '',
      ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
      deleting: !!p.metadata.deletionTimestamp, created: p.metadata.creationTimestamp,
      // A member that crashed and came back within the bound passes: its restarts show the near miss.
      restarts: (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0),
    })).sort((a: MemberPod, b: MemberPod) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  }

  async nodeReady(node: string): Promise<string | undefined> {
    const n: any = await this.api.get(R.nodes, undefined, node);
    return n.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;
  }

  /** Events of a namespace (or all) as `reason: message` with their time, oldest first. */
  async events(namespace?: string): Promise<{ reason: string; message: string; object: string; at: string; type: string }[]> {
    const list = await this.api.list(R.events, namespace);
    return list.items.map((e: any) => ({
      reason: e.reason, message: e.message, type: e.type, object: `${e.involvedObject?.kind}/${e.involvedObject?.name}`,
      at: e.eventTime ?? e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp,
    })).sort((a: any, b: any) => String(a.at).localeCompare(String(b.at)));
  }

  /** The network namespace of a lab node (to reach pod IPs from inside the lab). */
  netnsOf(node: string): string {
    const n = this.lab.state().nodes.find((x) => x.name === node);
    if (!n) throw new Error(`no lab node ${node}`);
    return n.netns;
  }

  addresses(): string[] { return this.lab.state().nodes.map((n) => n.address); }

  /** Why the storage pool is not whole as each node's glusterd sees it (poolUnsettledOf). */
  poolUnsettled(): Promise<string | undefined> { return poolUnsettledOf(this.lab); }

  /**
   * Why the replicated volumes are not yet whole again (undefined once they are): a storage node
   * out of the pool (poolUnsettledOf), a replica move under way, a brick offline, or writes a brick missed not yet healed onto it. Replica 3 keeps a
   * quorum through one loss at a time: a member's next loss waits for this, as an operator waits for
   * `gluster volume heal info` to be empty. Heals are read from the bricks' own indices
   * (.glusterfs/indices/xattrop; the lab's bricks are on this machine): an entry on every brick is a
   * write in flight (each brick marks it), one on some bricks only blames a brick that missed writes.
   */
  async storageUnsettled(): Promise<string | undefined> {
    const pool = await this.poolUnsettled();
    if (pool) return pool;
    const pvs = (await this.api.list(R.persistentvolumes, undefined)).items.filter((pv: any) => isReplicatedVolume(pv) && pv.metadata.annotations?.[ANN_VOLUME_STATE] === 'Ready' && pv.status?.phase === 'Bound');
    for (const pv of pvs) {
      const name = pv.metadata.name;
      if (pv.metadata.annotations?.[ANN_REPLACE]) return `${name}: a replica is moving`;
      const h = healthOf(pv);
      if (!h || h.online !== h.total) return `${name}: ${h?.online ?? '?'}/${h?.total ?? '?'} bricks online`;
      const indices = bricksOf(pv).map((b) => {
        const dir = path.join(b.path, '.glusterfs', 'indices', 'xattrop');
        return { node: b.node, entries: new Set(existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('xattrop-')) : []) };
      });
      for (const { node, entries } of indices) {
        const blaming = [...entries].filter((e) => !indices.every((i) => i.entries.has(e)));
        if (blaming.length) return `${name}: ${blaming.length} entries on ${node}'s brick to heal onto another`;
      }
    }
    return undefined;
  }
}

/**
 * Why the storage nodes' trusted pool is not whole (undefined once it is): as each node's glusterd
 * sees it, every other storage node connected and "Peer in Cluster". A member the pool rejects
 * ("Peer Rejected") leads no volume transaction and blocks every change it must pre-validate, while
 * its bricks may all be online: a volume's health alone does not show it.
 */
async function poolUnsettledOf(lab: TestLab): Promise<string | undefined> {
  const state = lab.state();
  if (!state.storage) return undefined;
  for (const n of state.nodes) {
    const socket = path.join(n.dataDir, 'replicated', 'glusterd', 'run', 'glusterd.socket');
    let peers;
    try {
      const { stdout } = await execFileP('gluster', [`--glusterd-sock=${socket}`, '--mode=script', '--timeout=15', 'pool', 'list', '--xml'], { timeout: 20_000 });
      peers = parsePool(stdout);
    } catch (err) {
      return `${n.name}'s glusterd does not answer (${(err as Error).message.split('\n')[0]})`;
    }
    const others = state.nodes.filter((o) => o.name !== n.name).map((o) => o.address);
    const out = others.map((a) => ({ a, p: peers.find((p) => p.address === a) })).filter(({ p }) => !p || !p.connected || p.state !== 'Peer in Cluster');
    if (out.length) return `${n.name}'s glusterd sees ${out.map(({ a, p }) => `${a} ${!p ? 'not in its pool' : !p.connected ? 'disconnected' : p.state}`).join(', ')}`;
  }
  return undefined;
}

export const SQLITE_WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'sqlite-writer.py');

/** A 1-replica StatefulSet `app` running sqlite-writer.py on its volume; acknowledged ids go to `acks` on the host. */
export function sqliteObjects(namespace: string, storageClass: string, acks: string): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace }, spec: { clusterIP: 'None', selector: { app: 'app' }, ports: [{ name: 'http', port: 8080 }] } },
    {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'app', namespace },
      spec: {
        serviceName: 'app', replicas: 1, selector: { matchLabels: { app: 'app' } },
        template: {
          metadata: { labels: { app: 'app' } },
          spec: {
            runtimeClassName: 'process', terminationGracePeriodSeconds: 5,
            containers: [{
              name: 'app', image: 'host', command: ['python3', SQLITE_WRITER, '/data/app.db', acks],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              ],
              readinessProbe: { httpGet: { path: '/count', port: 8080 }, periodSeconds: 1 },
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: storageClass, resources: { requests: { storage: '128Mi' } } } }],
      },
    },
  ];
}

/**
 * A StatefulSet `name` of python3 serving its volume on :8080: `/born` holds the first start's
 * member, node and time (written once, so a member that kept its volume keeps its birth line),
 * `/starts` one line per start with the template's VERSION.
 */
export function kvObjects(namespace: string, name: string, storageClass: string, replicas: number, o: { annotations?: Record<string, string>; version?: string } = {}): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ name: 'http', port: 8080 }] } },
    {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace, annotations: o.annotations ?? {} },
      spec: {
        serviceName: name, replicas, selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            runtimeClassName: 'process', terminationGracePeriodSeconds: 2,
            containers: [{
              name: 'kv', image: 'host',
              command: ['sh', '-c', '[ -s /data/born ] || echo "$POD_NAME $NODE_NAME $(date +%s%N)" > /data/born; echo "$(date +%s%N) $NODE_NAME $VERSION" >> /data/starts; exec python3 -m http.server 8080 --directory /data'],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'VERSION', value: o.version ?? 'v1' },
              ],
              readinessProbe: { httpGet: { path: '/born', port: 8080 }, periodSeconds: 1 },
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: storageClass, resources: { requests: { storage: '64Mi' } } } }],
      },
    },
  ];
}

export type LossKind = 'kill' | 'partition' | 'agent';

/** Times from the loss, in seconds; undefined where it was not seen. */
export interface RecoveryTimes { notReady?: number; nodeLost?: number; fenced?: number; moved?: number; running?: number; healthy?: number }

export interface Recovery { old: MemberPod; now: MemberPod; memberId: string; lostAt: number; times: RecoveryTimes; events: Awaited<ReturnType<ClusterView['events']>> }

/** Seconds from `t0` (ms) to an event's own time (the server's clock is this machine's). */
const since = (t0: number, at: string | undefined) => (at ? (Date.parse(at) - t0) / 1000 : undefined);

/**
 * Loses the node of etcd member `member` (`kill`: `berth lab kill`; `partition`: the cable pulled;
 * `agent`: kill -9 of its agent only) and waits until the member runs on another node as the same
 * etcd member (same member ID, 3 members, healthy), for at most `timeoutMs`. The times: NotReady as
 * polled; NodeLost/MemberFenced/MemberMoved from the events' own timestamps; Running and healthy as
 * polled (every 200 ms).
 */
export async function loseMemberNode(view: ClusterView, ns: string, member: string, how: LossKind, timeoutMs = 90_000): Promise<Recovery> {
  const old = (await view.members(ns)).find((p) => p.name === member && !p.deleting);
  if (!old?.ip) throw new Error(`${member} is not running`);
  // A precondition, not a measurement: a member's /health (a quorum read) can read false for a
  // moment on a loaded machine right after the previous case — one sample failed a run here after
  // formedCluster had seen all three healthy — so it is given 30 s to be healthy.
  let st = await etcdStatus(view.netnsOf(old.node), old.ip);
  for (const until = Date.now() + 30_000; !st?.healthy && Date.now() < until;) {
    await sleep(500);
    st = await etcdStatus(view.netnsOf(old.node), old.ip);
  }
  if (!st?.healthy) throw new Error(`${member} is not a healthy etcd member before the loss (for 30 s): ${JSON.stringify(st)}`);
  const lostAt = Date.now();
  if (how === 'agent') {
    const agent = view.lab.state().nodes.find((n) => n.name === old.node)?.agent;
    if (!agent) throw new Error(`no agent recorded for ${old.node}`);
    process.kill(agent.pid, 'SIGKILL');
  } else {
    await view.lab.run([how, old.node]);
  }
  const times: RecoveryTimes = {};
  const deadline = lostAt + timeoutMs;
  let now: MemberPod | undefined;
  for (;;) {
    const t = () => (Date.now() - lostAt) / 1000;
    try {
      if (times.notReady === undefined && (await view.nodeReady(old.node)) !== 'True') times.notReady = t();
      const p = (await view.members(ns)).find((x) => x.name === member && !x.deleting && x.uid !== old.uid && x.node && x.node !== old.node);
      if (p && p.phase === 'Running' && p.ip) {
        times.running ??= t();
        const s = await etcdStatus(view.netnsOf(p.node), p.ip);
        if (s?.healthy && s.memberId === st.memberId && s.members.length === 3) { times.healthy = t(); now = p; break; }
      }
    } catch { /* the API may be slow under load: poll again */ }
    if (Date.now() > deadline) break;
    await sleep(200);
  }
  const events = await view.events().catch(() => []);
  const first = (reason: string) => events.find((e) => e.reason === reason && Date.parse(e.at) >= lostAt - 1000 && (e.message.includes(old.node) || e.object.endsWith(member) || e.object === `Node/${old.node}`));
  times.nodeLost = since(lostAt, first('NodeLost')?.at);
  times.fenced = since(lostAt, first('MemberFenced')?.at);
  times.moved = since(lostAt, first('MemberMoved')?.at);
  if (!now) {
    const pods = await view.members(ns).catch((err) => String(err));
    throw Object.assign(new Error(`${member} (member ${st.memberId}) not healthy on another node within ${timeoutMs / 1000} s of the ${how} of ${old.node}: times ${JSON.stringify(times)}; pods ${JSON.stringify(pods)}; `
      + `events ${JSON.stringify(events.filter((e) => Date.parse(e.at) >= lostAt - 1000).slice(-25))}\n${await lossDiagnostics(view, ns, member)}`), { times });
  }
  return { old, now, memberId: st.memberId, lostAt, times, events };
}
