/**
 * `sched-inproc`: `sched` in one process, without HTTP or the simulator: 1,000 Ready nodes and 10,000
 * pending pods in a real store (SQLite, synchronous=FULL, controllers off), then startScheduler —
 * wall time and this process's CPU until every pod is bound (the scheduler's stop waits for its
 * bindings and queued events). What the scheduler and the binding write path cost per pod
 * (kube-scheduler's scheduler_perf measures the same way, against an in-process apiserver).
 * `npm run bench -- sched-inproc` runs it twice: BENCH_SCHED_INPROC_ROOT=<another tree> runs that
 * tree's code first (an older commit checked out with `git worktree add`: the peer, same run), e.g.
 *   BENCH_SCHED_INPROC_ROOT=/tmp/prev npm run bench -- sched-inproc
 * Directly, `ROOT=/tmp/prev LABEL=before node --import tsx bench/sched-inproc.ts` prints its lines.
 * Then (WRITES=0 skips it) the CPU of one write of each hot kind in the same process (writeCosts).
 * BENCH_PROFILE_DIR=<dir>: CPU profiles of the two measured phases (bind, writes), setup left out.
 * Target (as bench sched): ≥ 3,750 pods/s wall.
 */
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
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
    const profile = await startProfile();
    const c0 = process.cpuUsage(); const t0 = performance.now();
    const sched = await startScheduler(client, log);
    while (sched.snapshot.podNode.size < PODS) await new Promise((r) => setTimeout(r, 20));
    const tAssumed = performance.now();
    await sched.stop();
    const ms = performance.now() - t0; const c = process.cpuUsage(c0); const cpuMs = (c.user + c.system) / 1000;
    await profile?.('bind');
    const bound = (await client.list(R.pods, 'default')).items.filter((p: any) => p.spec.nodeName).length;
    const evs = (await client.list(R.events, 'default')).items.filter((e: any) => e.reason === 'Scheduled').length;
    const rate = PODS / ms * 1000;
    if (process.env.WRITES !== '0') await writeCosts(root, client, label);
    console.log(`${label}: ${bound}/${PODS} bound in ${ms.toFixed(0)} ms = ${rate.toFixed(0)} pods/s wall (all assumed at ${(tAssumed - t0).toFixed(0)} ms); CPU ${cpuMs.toFixed(0)} ms = ${(cpuMs / PODS * 1000).toFixed(0)} µs/pod = ${(PODS / cpuMs * 1000).toFixed(0)} pods/s of CPU; ${evs} Scheduled events`);
    return bound === PODS ? rate : 0;
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The CPU of one write of each hot kind, in-process (the registry and store, no HTTP), each with one
 * unfiltered watch of its resource open as the controllers' informers keep: a Lease renewal (merge
 * patch of spec, as `berth sim` and the kubelet send), a pod's Running status (merge patch of
 * pods/status, the simulator's), a core/v1 Event create (the recorders'), a bound pod's create, its
 * graceful delete (deletionTimestamp set) and its final delete (grace 0, uid precondition, as the
 * kubelet does). 64 in flight, N of each (BENCH_SCHED_INPROC_WRITES_N, default 3,000).
 */
async function writeCosts(root: string, client: any, label: string): Promise<void> {
  const { R } = await import(`${root}/src/client/client.ts`);
  const { leaseRenewPatch, hollowLease } = await import(`${root}/src/sim/hollow-node.ts`);
  const { runningPodStatus } = await import(`${root}/src/sim/running-pod-status.ts`);
  const { rfc3339 } = await import(`${root}/src/apis/time.ts`);
  const N = Number(process.env.BENCH_SCHED_INPROC_WRITES_N ?? 3000);
  const par = async (n: number, f: (i: number) => Promise<unknown>) => { let i = 0; await Promise.all(Array.from({ length: 64 }, async () => { while (i < n) await f(i++); })); };
  const LEASES = 1000;
  const nodeUid = new Map((await client.list(R.nodes, undefined)).items.map((n: any) => [n.metadata.name, n.metadata.uid]));
  // Owned by their Nodes, as the simulator's: a Lease naming a missing owner is garbage collected.
  await par(LEASES, (i) => client.create(R.leases, 'kube-node-lease', hollowLease(`n-${i}`, nodeUid.get(`n-${i}`), 40)));
  const pods = (await client.list(R.pods, 'default')).items.slice(0, N);
  const watches: { close(): void }[] = [];
  let heard = 0;
  for (const ref of [R.leases, R.pods, R.events]) watches.push(await client.watch(ref, undefined, { resourceVersion: (await client.list(ref, undefined, { limit: 1 })).resourceVersion }, () => { heard++; }));
  const results: string[] = [];
  // Warm-up: the patch path compiled before it is timed.
  await par(500, (i) => client.patch(R.leases, 'kube-node-lease', `n-${i % LEASES}`, 'merge', leaseRenewPatch(`n-${i % LEASES}`, 40)));
  const profile = await startProfile();
  const measure = async (name: string, n: number, op: (i: number) => Promise<unknown>) => {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    await par(n, op);
    const c = process.cpuUsage(c0); const ms = performance.now() - t0;
    results.push(`${name} ${((c.user + c.system) / n).toFixed(0)} µs`);
    void ms;
  };
  try {
    await measure('lease renewal', N, (i) => client.patch(R.leases, 'kube-node-lease', `n-${i % LEASES}`, 'merge', leaseRenewPatch(`n-${i % LEASES}`, 40)));
    await measure('pod status (merge, pods/status)', pods.length, (i) => {
      const p = pods[i];
      return client.patch(R.pods, 'default', p.metadata.name, 'merge', { status: runningPodStatus(p, '10.224.0.1', `10.240.${i >> 8}.${i & 255}`, rfc3339()) }, 'status');
    });
    await measure('event create', N, (i) => client.create(R.events, 'default', {
      apiVersion: 'v1', kind: 'Event', metadata: { name: `p-${i}.${(0x17e0000000 + i).toString(16)}`, namespace: 'default' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: `p-${i}`, uid: `uid-p-${i}`, apiVersion: 'v1' },
      reason: 'Started', message: 'Started container c', source: { component: 'kubelet', host: 'n-1' }, type: 'Normal',
      firstTimestamp: rfc3339(), lastTimestamp: rfc3339(), count: 1, reportingComponent: 'kubelet', reportingInstance: 'n-1',
    }));
    const made: any[] = [];
    await measure('pod create (bound)', N, async (i) => {
      made[i] = await client.create(R.pods, 'default', {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `w-${i}`, labels: { bench: 'churn' } },
        spec: { nodeName: `n-${i % 1000}`, containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      });
    });
    await measure('pod delete (graceful)', N, (i) => client.delete(R.pods, 'default', `w-${i}`));
    await measure('pod delete (final, grace 0)', N, (i) => client.delete(R.pods, 'default', `w-${i}`, { gracePeriodSeconds: 0, preconditions: { uid: made[i].metadata.uid } }));
  } finally {
    await profile?.('writes');
    for (const w of watches) w.close();
  }
  console.log(`${label} writes (CPU per write, in-process, ${N} each; ${heard} watch events heard): ${results.join('; ')}`);
}

/**
 * BENCH_PROFILE_DIR: a V8 CPU profile of the measured phase only (not the setup) is written there as
 * `<phase>.cpuprofile` (open in Chrome's DevTools).
 */
async function startProfile(): Promise<((phase: string) => Promise<void>) | undefined> {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async (phase) => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(join(dir, `${phase}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}

/** Each measurement in a fresh process, so one tree's modules and heap never meet the other's. */
function child(root: string, label: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    cwd: HERE, env: { ...process.env, ROOT: root, LABEL: label }, encoding: 'utf8', timeout: 600_000,
  });
  const lines = r.stdout.trim().split('\n');
  const line = lines.find((l) => / bound in /.test(l)) ?? '';
  for (const l of lines) if (l.startsWith(label)) console.log(l);
  if (!line) console.log(`${label}: failed (${r.status ?? r.signal}) ${r.stderr.slice(-2000)}`);
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
