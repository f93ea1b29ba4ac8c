/**
 * `sched` in one process, without HTTP or the simulator: 1,000 Ready nodes and 10,000 pending pods
 * in a real store (SQLite, controllers off), then startScheduler — wall time and this process's CPU
 * until every pod is bound (the scheduler's stop waits for its bindings and queued events). What the
 * scheduler and the binding write path cost per pod (kube-scheduler's scheduler_perf measures the
 * same way, against an in-process apiserver). `ROOT` picks the tree whose code runs, so an older
 * commit checked out with `git worktree add` is the peer in the same run:
 *   ROOT=/tmp/prev LABEL=before node --import tsx bench/sched-inproc.ts
 */
export {};
const ROOT = process.env.ROOT ?? new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const { mkdtemp, rm } = await import('node:fs/promises');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { R } = await import(`${ROOT}/src/client/client.ts`);
const { LocalClient } = await import(`${ROOT}/src/client/local-client.ts`);
const { startServer } = await import(`${ROOT}/src/server/berth-server.ts`);
const { createLogger } = await import(`${ROOT}/src/util/log.ts`);
const { startScheduler } = await import(`${ROOT}/src/scheduler/scheduler.ts`);
const { makeNode, makePod } = await import(`${ROOT}/src/scheduler/cluster.fixture.ts`);
const NODES = 1000, PODS = Number(process.env.PODS ?? 10000);
const dataDir = await mkdtemp(join(tmpdir(), 'sched-inproc-'));
const log = createLogger({ level: 'error' });
const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log, controllers: false } as any);
const client = new LocalClient(server.registry);
const par = async (n: number, f: (i: number) => Promise<unknown>) => { let i = 0; await Promise.all(Array.from({ length: 64 }, async () => { while (i < n) await f(i++); })); };
await par(NODES, (i) => client.create(R.nodes, undefined, makeNode(`n-${i}`, { cpu: '32', memory: '64Gi' })));
await par(PODS, (i) => { const p = makePod(`p-${i}`, { requests: { cpu: '10m', memory: '16Mi' } }); return client.create(R.pods, 'default', { ...p, metadata: { name: p.metadata.name, labels: p.metadata.labels } }); });
const c0 = process.cpuUsage(); const t0 = performance.now();
const sched = await startScheduler(client, log);
while (sched.snapshot.podNode.size < PODS) await new Promise((r) => setTimeout(r, 20));
const tAssumed = performance.now();
await sched.stop();
const ms = performance.now() - t0; const c = process.cpuUsage(c0); const cpuMs = (c.user + c.system) / 1000;
const bound = (await client.list(R.pods, 'default')).items.filter((p: any) => p.spec.nodeName).length;
const evs = (await client.list(R.events, 'default')).items.filter((e: any) => e.reason === 'Scheduled').length;
console.log(`${process.env.LABEL}: ${bound}/${PODS} bound in ${ms.toFixed(0)} ms = ${(PODS / ms * 1000).toFixed(0)} pods/s wall (all assumed at ${(tAssumed - t0).toFixed(0)} ms); CPU ${cpuMs.toFixed(0)} ms = ${(cpuMs / PODS * 1000).toFixed(0)} µs/pod = ${(PODS / cpuMs * 1000).toFixed(0)} pods/s of CPU; ${evs} Scheduled events`);
await server.stop();
await rm(dataDir, { recursive: true, force: true });
process.exit(0);
