/**
 * `sched-writes`: the server's CPU for one HTTP write of each hot kind — a Lease renewal (merge patch,
 * as `berth sim` and kubelets send), a bare pod create, its binding, its Running status (merge patch of
 * pods/status, the simulator's), an Event create, the graceful delete and the final one (grace 0, uid
 * precondition). A `berth server` child (bench/lib/server.ts; SQLite, controllers on; pods name a
 * scheduler nobody runs, so the bench binds them itself), 64 clients over TLS with the kubeconfig, N of
 * each (N, default 3,000) after 1,000 warm-up renewals; CPU from /proc ticks of the server alone.
 * Run directly (not in bench/run.ts): `node --import tsx bench/sched-writes.ts`; ROOT=<another tree>
 * measures that tree's server (an older commit checked out with `git worktree add`). PEER=<tree> runs
 * that tree's server beside ROOT's in the same run: each kind's writes go in CHUNKS (default 6) slices,
 * the two servers taking turns (order alternating), and each server's ticks count only while it is
 * written to — a loaded machine then weighs on both alike, where separate runs moved ±30 %.
 * PROFDIR=<dir> gives the servers --cpu-prof and writes DIR/phases.json, each phase's windows on the
 * profile's clock (µs). Upstream has no equivalent figure; the peer is the older tree.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const ROOT = process.env.ROOT ?? fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const PEER = process.env.PEER;
if (process.env.PROFDIR) process.env.BENCH_SERVER_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${process.env.PROFDIR}`;
const { keepAliveAgent, request } = await import(`${ROOT}/bench/lib/load.ts`);
const { cpuTicksOf } = await import(`${ROOT}/bench/lib/proc.ts`);
const { rfc3339, rfc3339Micro } = await import(`${ROOT}/src/apis/time.ts`);
const { runningPodStatus } = await import(`${ROOT}/src/sim/running-pod-status.ts`);

/** One server under test: its tree, its child, a keep-alive pool, the pods created on it. */
interface Target { label: string; server: any; agent: any; url: string; pods: any[]; cpu: Map<string, number> }
const targets: Target[] = [];
const N = Number(process.env.N ?? 3000), L = 500, CHUNKS = PEER ? Number(process.env.CHUNKS ?? 6) : 1;
const par = async (from: number, to: number, f: (i: number) => Promise<unknown>) => {
  let i = from;
  await Promise.all(Array.from({ length: 64 }, async () => { while (i < to) await f(i++); }));
};
// With PROFDIR, each phase's windows on the monotonic clock (µs, the clock of the .cpuprofile's timestamps).
const phases: { name: string; label: string; pid: number; startUs: number; endUs: number }[] = [];
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** `n` writes of one kind on every target, in CHUNKS slices taking turns; CPU per write of each. */
const measure = async (name: string, n: number, op: (t: Target, i: number) => Promise<unknown>) => {
  for (let c = 0; c < CHUNKS; c++) {
    const from = Math.floor(c * n / CHUNKS), to = Math.floor((c + 1) * n / CHUNKS);
    for (const t of c % 2 ? [...targets].reverse() : targets) {
      const t0 = cpuTicksOf(t.server.pid);
      const startUs = nowUs();
      await par(from, to, (i) => op(t, i));
      phases.push({ name, label: t.label, pid: t.server.pid, startUs, endUs: nowUs() });
      t.cpu.set(name, (t.cpu.get(name) ?? 0) + cpuTicksOf(t.server.pid) - t0);
    }
  }
};

try {
  for (const [label, tree] of PEER ? [[process.env.LABEL ?? ROOT, ROOT], [process.env.PEER_LABEL ?? PEER, PEER]] : [[process.env.LABEL ?? ROOT, ROOT]]) {
    const { startBerth } = await import(`${tree}/bench/lib/server.ts`);
    // The bench's nodes renew their Leases only in the first phase: a long grace keeps them Ready (with the
    // default 8 s they went NotReady mid-run, and the node lifecycle controller's writes and deletions of
    // their pods fell into the later phases — a 404 on a pod the bench was to delete, in a slow run).
    const server = await startBerth({ store: 'sqlite', readyTimeoutMs: 30000, args: ['--node-monitor-grace-period', '3600'] });
    targets.push({ label, server, agent: keepAliveAgent(64, server.tls), url: server.url, pods: [], cpu: new Map() });
  }
  const renew = (t: Target, i: number) => request(t.agent, 'PATCH', `${t.url}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n-${i % L}`, JSON.stringify({ spec: { holderIdentity: `n-${i % L}`, leaseDurationSeconds: 40, renewTime: rfc3339Micro(new Date()) } }), { 'content-type': 'application/merge-patch+json' });
  for (const t of targets) {
    const nodes: any[] = [];
    await par(0, L, async (i) => { nodes[i] = JSON.parse((await request(t.agent, 'POST', `${t.url}/api/v1/nodes`, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: `n-${i}` }, status: { allocatable: { cpu: '32', memory: '64Gi', pods: '110' }, capacity: { cpu: '32', memory: '64Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] } }))).body.toString()); });
    await par(0, L, (i) => request(t.agent, 'POST', `${t.url}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases`, JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `n-${i}`, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: `n-${i}`, uid: nodes[i].metadata.uid }] }, spec: { holderIdentity: `n-${i}`, leaseDurationSeconds: 40, renewTime: rfc3339Micro(new Date()) } })));
    await par(0, 1000, (i) => renew(t, i));
    await request(t.agent, 'POST', `${t.url}/api/v1/namespaces`, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w' } }));
  }
  await measure('lease renewal', N, renew);
  const podJson = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'w' } }, spec: { schedulerName: 'bench-none', containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } });
  await measure('pod create', N, async (t, i) => { t.pods[i] = JSON.parse((await request(t.agent, 'POST', `${t.url}/api/v1/namespaces/w/pods`, podJson(`p-${i}`))).body.toString()); });
  await measure('binding', N, (t, i) => request(t.agent, 'POST', `${t.url}/api/v1/namespaces/w/pods/p-${i}/binding`, JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: `p-${i}` }, target: { apiVersion: 'v1', kind: 'Node', name: `n-${i % L}` } })));
  await measure('pod status (merge)', N, async (t, i) => { const p = t.pods[i]; const st = runningPodStatus({ ...p, spec: { ...p.spec, nodeName: `n-${i % L}` } }, '10.224.0.1', `10.240.${i >> 8}.${i & 255}`, rfc3339()); return request(t.agent, 'PATCH', `${t.url}/api/v1/namespaces/w/pods/p-${i}/status`, JSON.stringify({ status: st }), { 'content-type': 'application/merge-patch+json' }); });
  await measure('event create', N, (t, i) => request(t.agent, 'POST', `${t.url}/api/v1/namespaces/w/events`, JSON.stringify({ apiVersion: 'v1', kind: 'Event', metadata: { name: `p-${i}.${(0x17e0000000 + i).toString(16)}` }, involvedObject: { kind: 'Pod', namespace: 'w', name: `p-${i}`, uid: t.pods[i].metadata.uid, apiVersion: 'v1' }, reason: 'Started', message: 'Started container c', source: { component: 'kubelet', host: 'n-1' }, type: 'Normal', firstTimestamp: rfc3339(), lastTimestamp: rfc3339(), count: 1 })));
  await measure('pod delete (graceful)', N, (t, i) => request(t.agent, 'DELETE', `${t.url}/api/v1/namespaces/w/pods/p-${i}`));
  await measure('pod delete (grace 0)', N, (t, i) => request(t.agent, 'DELETE', `${t.url}/api/v1/namespaces/w/pods/p-${i}`, JSON.stringify({ apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: t.pods[i].metadata.uid } })));
  for (const t of targets) {
    console.log(`${t.label}: server CPU per HTTP write: ${[...t.cpu].map(([name, ticks]) => `${name} ${(ticks * 10000 / N).toFixed(0)} µs`).join('; ')}`);
  }
  if (process.env.PROFDIR) writeFileSync(`${process.env.PROFDIR}/phases.json`, JSON.stringify(phases));
} finally {
  for (const t of targets) {
    t.agent.destroy();
    await t.server.stop();
  }
}
