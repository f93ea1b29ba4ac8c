/**
 * `sched-inproc`: `sched` in one process, without HTTP or the simulator: 1,000 Ready nodes and 10,000
 * pending pods in a real store (SQLite, synchronous=FULL, controllers off), then startScheduler —
 * wall time and this process's CPU until every pod is bound (the scheduler's stop waits for its
 * bindings and queued events). What the scheduler and the binding write path cost per pod
 * (kube-scheduler's scheduler_perf measures the same way, against an in-process apiserver).
 * `npm run bench -- sched-inproc` runs it twice: BENCH_SCHED_INPROC_ROOT=<another tree> runs that
 * tree's code first (an older commit checked out with `git worktree add`: the peer, same run), e.g.
 *   BENCH_SCHED_INPROC_ROOT=/tmp/prev npm run bench -- sched-inproc
 * Directly, `ROOT=/tmp/prev LABEL=before node --import tsx bench/sched-inproc.ts` prints one line.
 * Target (as bench sched): ≥ 3,750 pods/s wall.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TARGET_PODS_PER_S = 3750;
const HERE = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** One measurement with the code of `root`; prints and returns pods/s (wall). */
async function measure(root: string, label: string): Promise<number> {
  const { R } = await import(`${root}/src/client/client.ts`);
  const { LocalClient } = await import(`${root}/src/client/local-client.ts`);
  const { startServer } = await import(`${root}/src/server/berth-server.ts`);
  const { createLogger } = await import(`${root}/src/util/log.ts`);
  const { startScheduler } = await import(`${root}/src/scheduler/scheduler.ts`);
  const { makeNode, makePod } = await import(`${root}/src/scheduler/cluster.fixture.ts`);
  const NODES = 1000, PODS = Number(process.env.PODS ?? 10000);
  const dataDir = await mkdtemp(join(tmpdir(), 'sched-inproc-'));
  const log = createLogger({ level: 'error' });
  const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log, controllers: false } as any);
  try {
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
    const rate = PODS / ms * 1000;
    console.log(`${label}: ${bound}/${PODS} bound in ${ms.toFixed(0)} ms = ${rate.toFixed(0)} pods/s wall (all assumed at ${(tAssumed - t0).toFixed(0)} ms); CPU ${cpuMs.toFixed(0)} ms = ${(cpuMs / PODS * 1000).toFixed(0)} µs/pod = ${(PODS / cpuMs * 1000).toFixed(0)} pods/s of CPU; ${evs} Scheduled events`);
    return bound === PODS ? rate : 0;
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Each measurement in a fresh process, so one tree's modules and heap never meet the other's. */
function child(root: string, label: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    cwd: HERE, env: { ...process.env, ROOT: root, LABEL: label }, encoding: 'utf8', timeout: 600_000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  console.log(line || `${label}: failed (${r.status ?? r.signal}) ${r.stderr.slice(-2000)}`);
  return line;
}

export async function run(): Promise<boolean> {
  const peer = process.env.BENCH_SCHED_INPROC_ROOT;
  if (peer) child(peer, `peer (${peer})`);
  const line = child(HERE, 'Berth (this tree)');
  const rate = Number(/= (\d+) pods\/s wall/.exec(line)?.[1] ?? 0);
  console.log(`target: ≥ ${TARGET_PODS_PER_S} pods/s wall → ${rate} ${rate >= TARGET_PODS_PER_S ? 'PASS' : 'FAIL'}`);
  return rate >= TARGET_PODS_PER_S;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await measure(process.env.ROOT ?? HERE, process.env.LABEL ?? 'this tree');
  process.exit(0);
}
