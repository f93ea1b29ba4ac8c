/**
 * `sched-writes`: the server's CPU for one HTTP write of each hot kind — a Lease renewal (merge patch,
 * as `berth sim` and kubelets send), a bare pod create, its binding, its Running status (merge patch of
 * pods/status, the simulator's), an Event create, the graceful delete and the final one (grace 0, uid
 * precondition). A `berth server` child (bench/lib/server.ts; SQLite, controllers on; pods name a
 * scheduler nobody runs, so the bench binds them itself), 64 clients over TLS with the kubeconfig, N of
 * each (N, default 3,000) after 1,000 warm-up renewals; CPU from /proc ticks of the server alone.
 * Run directly (not in bench/run.ts): `node --import tsx bench/sched-writes.ts`; ROOT=<another tree>
 * measures that tree's server (an older commit checked out with `git worktree add`); PROFDIR=<dir> gives
 * the server --cpu-prof and writes DIR/phases.json, each phase's window on the profile's clock (µs). Upstream has no equivalent figure; the peer is the older tree.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const ROOT = process.env.ROOT ?? fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
if (process.env.PROFDIR) process.env.BENCH_SERVER_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${process.env.PROFDIR}`;
const { startBerth } = await import(`${ROOT}/bench/lib/server.ts`);
const { keepAliveAgent, request } = await import(`${ROOT}/bench/lib/load.ts`);
const { cpuTicksOf } = await import(`${ROOT}/bench/lib/proc.ts`);
const { rfc3339, rfc3339Micro } = await import(`${ROOT}/src/apis/time.ts`);
const { runningPodStatus } = await import(`${ROOT}/src/sim/running-pod-status.ts`);
const server = await startBerth({ store: 'sqlite', readyTimeoutMs: 30000 });
const agent = keepAliveAgent(64, server.tls);
const u = server.url;
const par = async (n: number, f: (i: number) => Promise<unknown>) => { let i = 0; await Promise.all(Array.from({ length: 64 }, async () => { while (i < n) await f(i++); })); };
const N = Number(process.env.N ?? 3000), L = 500;
const out: string[] = [];
// With PROFDIR, each phase's window on the monotonic clock (µs, the clock of the .cpuprofile's timestamps).
const phases: { name: string; startUs: number; endUs: number }[] = [];
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const measure = async (name: string, n: number, op: (i: number) => Promise<unknown>) => {
  const t0 = cpuTicksOf(server.pid);
  const startUs = nowUs();
  await par(n, op);
  phases.push({ name, startUs, endUs: nowUs() });
  out.push(`${name} ${((cpuTicksOf(server.pid) - t0) * 10000 / n).toFixed(0)} µs`);
};
try {
  const nodes: any[] = [];
  await par(L, async (i) => { nodes[i] = JSON.parse((await request(agent, 'POST', `${u}/api/v1/nodes`, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: `n-${i}` }, status: { allocatable: { cpu: '32', memory: '64Gi', pods: '110' }, capacity: { cpu: '32', memory: '64Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] } }))).body.toString()); });
  await par(L, (i) => request(agent, 'POST', `${u}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases`, JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `n-${i}`, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: `n-${i}`, uid: nodes[i].metadata.uid }] }, spec: { holderIdentity: `n-${i}`, leaseDurationSeconds: 40, renewTime: rfc3339Micro(new Date()) } })));
  const renew = (i: number) => request(agent, 'PATCH', `${u}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n-${i % L}`, JSON.stringify({ spec: { holderIdentity: `n-${i % L}`, leaseDurationSeconds: 40, renewTime: rfc3339Micro(new Date()) } }), { 'content-type': 'application/merge-patch+json' });
  await par(1000, renew);
  await measure('lease renewal', N, renew);
  await request(agent, 'POST', `${u}/api/v1/namespaces`, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w' } }));
  const podJson = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'w' } }, spec: { schedulerName: 'bench-none', containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } });
  const pods: any[] = [];
  await measure('pod create', N, async (i) => { pods[i] = JSON.parse((await request(agent, 'POST', `${u}/api/v1/namespaces/w/pods`, podJson(`p-${i}`))).body.toString()); });
  await measure('binding', N, (i) => request(agent, 'POST', `${u}/api/v1/namespaces/w/pods/p-${i}/binding`, JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: `p-${i}` }, target: { apiVersion: 'v1', kind: 'Node', name: `n-${i % L}` } })));
  await measure('pod status (merge)', N, async (i) => { const st = runningPodStatus({ ...pods[i], spec: { ...pods[i].spec, nodeName: `n-${i % L}` } }, '10.224.0.1', `10.240.${i >> 8}.${i & 255}`, rfc3339()); return request(agent, 'PATCH', `${u}/api/v1/namespaces/w/pods/p-${i}/status`, JSON.stringify({ status: st }), { 'content-type': 'application/merge-patch+json' }); });
  await measure('event create', N, (i) => request(agent, 'POST', `${u}/api/v1/namespaces/w/events`, JSON.stringify({ apiVersion: 'v1', kind: 'Event', metadata: { name: `p-${i}.${(0x17e0000000 + i).toString(16)}` }, involvedObject: { kind: 'Pod', namespace: 'w', name: `p-${i}`, uid: pods[i].metadata.uid, apiVersion: 'v1' }, reason: 'Started', message: 'Started container c', source: { component: 'kubelet', host: 'n-1' }, type: 'Normal', firstTimestamp: rfc3339(), lastTimestamp: rfc3339(), count: 1 })));
  await measure('pod delete (graceful)', N, (i) => request(agent, 'DELETE', `${u}/api/v1/namespaces/w/pods/p-${i}`));
  await measure('pod delete (grace 0)', N, (i) => request(agent, 'DELETE', `${u}/api/v1/namespaces/w/pods/p-${i}`, JSON.stringify({ apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pods[i].metadata.uid } })));
  console.log(`${process.env.LABEL ?? ROOT}: server CPU per HTTP write: ${out.join('; ')}`);
  if (process.env.PROFDIR) writeFileSync(`${process.env.PROFDIR}/phases.json`, JSON.stringify(phases));
} finally {
  agent.destroy();
  await server.stop();
}
