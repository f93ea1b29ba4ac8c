/**
 * `sched-thread`: the scheduler's worker thread alone, against an in-process server (SQLite,
 * controllers off; no HTTP, no simulator) — what the `berth-sched` thread spends a bound pod, read
 * from /proc/self/task, with the same shapes as `bench sched`: 1,000 hollow nodes (berth sim's
 * objects), 10,000 pods of 10m/16Mi. TAINT=1 does bench sched's order: the nodes carry a NoSchedule
 * taint, every pod is tried once and parked (the thread's CPU a parked pod is printed), then the
 * taint is lifted from every node (64 merge patches in flight) and the binding is measured. Then the
 * Scheduled events found in the store. Run directly (not in bench/run.ts; take the bench lock):
 *   flock /tmp/berth-bench.lock node --import tsx bench/sched-thread.ts
 * ROOT=<another tree> runs that tree's code (a `git worktree add` of an older commit: the peer);
 * PODS=N; under `node --cpu-prof --cpu-prof-dir=D` the thread writes a profile of its own.
 * The figure for issue 19 is bench sched's; this is for a profile of the thread without the rest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = process.env.ROOT ?? fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const { R } = await import(`${root}/src/client/client.ts`);
const { LocalClient } = await import(`${root}/src/client/local-client.ts`);
const { startServer } = await import(`${root}/src/server/berth-server.ts`);
const { createLogger } = await import(`${root}/src/util/log.ts`);
const { startSchedulerThread } = await import(`${root}/src/scheduler/scheduler-thread.ts`);
const { hollowNode } = await import(`${root}/src/sim/hollow-node.ts`);
const { DEFAULT_SIM_CONFIG } = await import(`${root}/src/sim/sim-config.ts`);

const NODES = 1000;
const PODS = Number(process.env.PODS ?? 10_000);
const TAINT = process.env.TAINT === '1';
const HOLD = { key: 'bench.berth.dev/hold', value: 'true', effect: 'NoSchedule' };

/** CPU ticks (1/100 s) of this process's `berth-sched` thread. */
function schedTicks(): number {
  let n = 0;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'berth-sched') continue;
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      n += Number(rest[11]) + Number(rest[12]);
    } catch { /* the thread ended */ }
  }
  return n;
}
const perPod = (ticks: number, pods: number) => (ticks * 10_000 / pods).toFixed(0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nodeName = (i: number) => `sim-${String(i).padStart(4, '0')}`;

const dataDir = await mkdtemp(join(tmpdir(), 'sched-thread-'));
const log = createLogger({ level: 'error' });
const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log, controllers: false } as never);
try {
  const client = new LocalClient(server.registry);
  const par = async (n: number, f: (i: number) => Promise<unknown>) => {
    let i = 0;
    await Promise.all(Array.from({ length: 64 }, async () => { while (i < n) await f(i++); }));
  };
  const cfg = { ...DEFAULT_SIM_CONFIG, nodes: NODES, taints: TAINT ? [HOLD] : [] };
  await par(NODES, (i) => client.create(R.nodes, undefined, hollowNode(nodeName(i), i, cfg)));
  await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sched' } });
  await par(PODS, (i) => client.create(R.pods, 'sched', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${String(i).padStart(5, '0')}`, labels: { bench: 'sched' } },
    spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  }));
  let bound = 0;
  const rv = (await client.list(R.pods, 'sched', { limit: 1 })).resourceVersion;
  const watch = await client.watch(R.pods, 'sched', { resourceVersion: rv }, (ev: { type: string; object?: { spec?: { nodeName?: string } } }) => {
    if (ev.type === 'MODIFIED' && ev.object?.spec?.nodeName) bound++;
  });
  const t0 = performance.now();
  const thread = await startSchedulerThread(client, log);
  if (TAINT) {
    for (;;) {
      const tried = (await client.list(R.pods, 'sched')).items.filter((p: { status?: { conditions?: { type: string }[] } }) => p.status?.conditions?.some((c) => c.type === 'PodScheduled')).length;
      if (tried >= PODS) break;
      await sleep(500);
    }
    console.log(`all ${PODS} pods tried once and parked in ${(performance.now() - t0).toFixed(0)} ms; scheduler thread so far ${perPod(schedTicks(), PODS)} µs a pod (its start included)`);
  }
  const tick0 = schedTicks();
  const t1 = performance.now();
  if (TAINT) void par(NODES, (i) => client.patch(R.nodes, undefined, nodeName(i), 'merge', { spec: { taints: null } }));
  const samples: [t: number, bound: number, ticks: number][] = [];
  while (bound < PODS && performance.now() - t1 < 300_000) {
    await sleep(100);
    samples.push([performance.now(), bound, schedTicks()]);
  }
  const ms = performance.now() - t1;
  const a = samples.find((x) => x[1] >= PODS * 0.1)!;
  const b = samples.find((x) => x[1] >= PODS * 0.9)!;
  console.log(`${bound} bound in ${ms.toFixed(0)} ms (${(PODS / ms * 1000).toFixed(0)} pods/s); scheduler thread ${perPod(schedTicks() - tick0, PODS)} µs a bound pod, `
    + `${perPod(b[2] - a[2], b[1] - a[1])} in the window of the 10th to 90th percentile bind (${((b[1] - a[1]) / (b[0] - a[0]) * 1000).toFixed(0)} pods/s)`);
  watch.close();
  await thread.stop();
  const events = (await client.list(R.events, 'sched')).items.filter((e: { reason?: string }) => e.reason === 'Scheduled').length;
  console.log(`Scheduled events written: ${events} of ${PODS}`);
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
