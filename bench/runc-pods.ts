/**
 * `runc-pods`: startup latency of runc pods on one `berth up` node with the image present
 * (imagePullPolicy Never, imported beforehand with `berth image import`): create request sent →
 * the first watch event showing phase Running with the container running (one watch on the
 * namespace). First 20 pods one at a time (each pod's own cost; then deleted), then 100 pods from
 * 10 concurrent creators. The floor, in the same run after the pods are gone: a bare `runc run -d` of an
 * equivalent, already prepared bundle (bench/runc-startup.ts, interleaved with the driver alone).
 * Targets (issue 4): p99 ≤ 500 ms and ≤ 2× the bare runc p99.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxLayout } from '../src/agent/runtime/runc/runc.fixture.ts';
import { request } from './lib/load.ts';
import { REPO_ROOT } from './lib/server.ts';
import { f, pct, printTable, sortNum } from './lib/stats.ts';
import { createEach, nowMs, PodWatch, startUp, type UpCluster } from './lib/up.ts';
import { bareRuncBurst, runcStartupBench } from './runc-startup.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const SEQ = QUICK ? 5 : 100;
const N = QUICK ? 20 : 100;
const CONCURRENCY = 10;
const TARGET_P99_MS = 500;
const IMAGE = 'bench.local/busybox:v1';

function runcPod(name: string, i: number): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      runtimeClassName: 'runc', terminationGracePeriodSeconds: 1,
      dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] },
      containers: [{ name: 'main', image: IMAGE, imagePullPolicy: 'Never', command: ['sleep', String(3600 + i)] }],
    },
  });
}

/** POSTs the runc pods with `concurrency` creators; returns each send time (nowMs). */
function createRuncPods(up: UpCluster, names: string[], offset: number, concurrency: number): Promise<number[]> {
  return createEach(names, (n, i) => request(up.agent, 'POST', `${up.url}/api/v1/namespaces/default/pods`, runcPod(n, offset + i)), concurrency);
}

export async function run(): Promise<boolean> {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-bench-runc-pods-'));
  const up = await startUp();
  let watch: PodWatch | undefined;
  let seq: number[] = [];
  let lat: number[] = [];
  let allRunning = 0;
  try {
    const layout = await buildBusyboxLayout(tmp);
    execFileSync(join(REPO_ROOT, 'bin', 'berth'), ['image', 'import', '--data-dir', up.dataDir, '--repository', 'bench.local/busybox', layout], { stdio: 'ignore' });
    watch = await PodWatch.open(up.url, up.tls);
    const w = watch;
    for (let i = 0; i < SEQ; i++) {
      const name = `runc-seq-${String(i).padStart(3, '0')}`;
      const [sent] = await createRuncPods(up, [name], 7200 + i, 1);
      await w.until(() => w.pods.get(name)?.firstRunningAt !== undefined, 30_000, `${name} Running`);
      seq.push(w.pods.get(name)!.firstRunningAt! - sent);
    }
    // A node takes 110 pods: the sequential ones go before the concurrent hundred.
    await up.deleteAllPods(120_000);
    const names = Array.from({ length: N }, (_, i) => `runc-pod-${String(i).padStart(3, '0')}`);
    const t0 = nowMs();
    const sentAt = await createRuncPods(up, names, 0, CONCURRENCY);
    await w.until(() => names.every((n) => w.pods.get(n)?.firstRunningAt !== undefined), 180_000, `${N} runc pods Running`);
    lat = names.map((n, i) => w.pods.get(n)!.firstRunningAt! - sentAt[i]);
    allRunning = Math.max(...names.map((n) => w.pods.get(n)!.firstRunningAt!)) - t0;
    await up.deleteAllPods(180_000);
  } finally {
    watch?.close();
    await up.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  // The floor, with no berth running: runc alone on a prepared bundle (and the driver alone).
  const floor = await runcStartupBench({ count: QUICK ? 10 : 100 });
  const burst = await bareRuncBurst({ count: N, concurrency: CONCURRENCY });
  sortNum(seq);
  sortNum(lat);
  const bareP99 = pct(floor.bare, 99);
  const burstP99 = pct(burst, 99);
  const row = (name: string, xs: number[], target: string) => [name, f(pct(xs, 50), 0), f(pct(xs, 99), 0), f(xs[xs.length - 1]!, 0), target];
  const passSeq = pct(seq, 99) <= TARGET_P99_MS && pct(seq, 99) <= 2 * bareP99;
  const passConc = pct(lat, 99) <= TARGET_P99_MS && pct(lat, 99) <= 2 * burstP99;
  printTable(`runc-pods — busybox sleep pods with the image present, berth up (SQLite)`,
    ['measure (ms)', 'p50', 'p99', 'max', 'target'], [
      row(`${SEQ} pods one at a time: create sent → Running on the watch`, seq, `p99 ≤ ${TARGET_P99_MS} and ≤ 2× bare (${f(2 * bareP99, 0)})`),
      row(`${N} pods, ${CONCURRENCY} creators: create sent → Running on the watch`, lat, `p99 ≤ ${TARGET_P99_MS} and ≤ 2× bare burst (${f(2 * burstP99, 0)})`),
      row('peer/floor: bare runc run -d, bundle ready, one at a time', floor.bare, ''),
      row(`peer/floor: ${N} bare runc run -d submitted at once, ${CONCURRENCY} runners`, burst, ''),
      row('RuncDriver.start alone (pid 1 running)', floor.driver, ''),
    ], [
      `${N} concurrent: first create sent → all Running ${f(allRunning, 0)} ms`,
      `one at a time: ${passSeq ? 'PASS' : 'FAIL'}; ${N} concurrent: ${passConc ? 'PASS' : 'FAIL'} (the burst p99 is mostly queueing behind the other pods; its floor is the bare burst)`,
    ]);
  return passSeq && passConc;
}
