/**
 * `scale-lease`: what one node Lease renewal costs the server, the two ways a client can send it — a
 * JSON merge patch of spec (what `berth sim` sent until 2026-12-07) and an update (PUT) of the whole
 * Lease at the resourceVersion the last write returned (what the kubelet's lease controller sends, and
 * `berth sim` now). At 5,000 nodes and 10 s renewals that is 500 writes a second, bench scale's largest
 * steady write load. One `berth server` child (SQLite, controllers on), L Leases owned by their Nodes,
 * 64 clients over TLS; N renewals of each kind (default 6,000) in CHUNKS slices (default 6), the two
 * kinds taking turns so that a loaded machine weighs on both alike; server CPU from /proc ticks while
 * each kind runs. Run directly: `node --import tsx bench/scale-lease.ts` (not part of `npm run bench`).
 */
import { startBerth } from './lib/server.ts';
import { keepAliveAgent, request } from './lib/load.ts';
import { cpuTicksOf } from './lib/proc.ts';
import { rfc3339Micro } from '../src/apis/time.ts';
import os from 'node:os';

const N = Number(process.env.N ?? 6000), L = Number(process.env.L ?? 500), CHUNKS = Number(process.env.CHUNKS ?? 6);
const NS = 'kube-node-lease';

const server = await startBerth({ store: 'sqlite', readyTimeoutMs: 60_000, args: ['--node-monitor-grace-period', '3600'] });
const agent = keepAliveAgent(64, server.tls);
const par = async (from: number, to: number, fn: (i: number) => Promise<unknown>) => {
  let i = from;
  await Promise.all(Array.from({ length: 64 }, async () => { while (i < to) await fn(i++); }));
};
const leaseUrl = (i: number) => `${server.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/n-${i}`;
try {
  const latest: any[] = [];
  await par(0, L, async (i) => {
    const node = JSON.parse((await request(agent, 'POST', `${server.url}/api/v1/nodes`, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: `n-${i}` }, status: { allocatable: { cpu: '4', memory: '16Gi', pods: '110' }, capacity: { cpu: '4', memory: '16Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] } }))).body.toString());
    latest[i] = JSON.parse((await request(agent, 'POST', `${server.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`, JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `n-${i}`, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: `n-${i}`, uid: node.metadata.uid }] }, spec: { holderIdentity: `n-${i}`, leaseDurationSeconds: 40, renewTime: rfc3339Micro(new Date()) } }))).body.toString());
  });
  const patch = async (i: number) => {
    const l = i % L;
    latest[l] = JSON.parse((await request(agent, 'PATCH', leaseUrl(l), JSON.stringify({ spec: { holderIdentity: `n-${l}`, leaseDurationSeconds: 40, renewTime: rfc3339Micro(new Date()) } }), { 'content-type': 'application/merge-patch+json' })).body.toString());
  };
  const update = async (i: number) => {
    const l = i % L;
    const cur = latest[l];
    latest[l] = JSON.parse((await request(agent, 'PUT', leaseUrl(l), JSON.stringify({ ...cur, spec: { ...cur.spec, renewTime: rfc3339Micro(new Date()) } }))).body.toString());
  };
  const kinds: Array<[string, (i: number) => Promise<void>]> = [['merge patch', patch], ['update (PUT at resourceVersion)', update]];
  await par(0, 1000, (i) => kinds[i % 2]![1](i)); // warm-up
  const ticks = new Map<string, number>(), wall = new Map<string, number>();
  const load0 = os.loadavg()[0]!;
  for (let c = 0; c < CHUNKS; c++) {
    const from = Math.floor(c * N / CHUNKS), to = Math.floor((c + 1) * N / CHUNKS);
    for (const [name, fn] of c % 2 ? [...kinds].reverse() : kinds) {
      const t0 = cpuTicksOf(server.pid), w0 = performance.now();
      await par(from, to, fn);
      ticks.set(name, (ticks.get(name) ?? 0) + cpuTicksOf(server.pid) - t0);
      wall.set(name, (wall.get(name) ?? 0) + performance.now() - w0);
    }
  }
  console.log(`scale-lease: ${N} renewals of ${L} Leases each way, 64 clients over TLS; load ${load0.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)}`);
  for (const [name] of kinds) {
    console.log(`  ${name}: server CPU ${(ticks.get(name)! * 10_000 / N).toFixed(0)} µs a renewal, ${(N / (wall.get(name)! / 1000)).toFixed(0)} renewals/s`);
  }
} finally {
  agent.destroy();
  await server.stop();
}
