/**
 * `volumes`: stateful workloads (issue 15) — local-path volumes and StatefulSets, as users reach them
 * (HTTPS with the kubeconfig Berth writes; kubectl exec for the in-pod measurements).
 *   (a) on `berth up`: fsync'd 4 KiB writes (p50/p99) and sequential write throughput (1 MiB writes,
 *       one fsync at the end) inside a local-path volume, measured from inside a process pod and a runc
 *       pod, against the same tool run directly on the host in the volume's own directory, interleaved
 *       in one run. One tool, one interpreter: the host's python3 (the runc pod gets the host's /usr
 *       read-only, so the same binary runs); it prints the directory's device and inode, which must
 *       be the host's — the pod wrote where the host did. Upstream: local-path-provisioner's
 *       volumes are bind mounts too, so the expected overhead is ~0.
 *   (b) on `berth server` + `berth sim` (hollow nodes, as bench/sched.ts): a StatefulSet of 100
 *       Parallel replicas, create → status.readyReplicas = 100; again with a volumeClaimTemplate bound
 *       to 100 pre-made PVs (an Immediate class), so the PV binder and the scheduler's volume binding
 *       are on the path.
 *   (c) on `berth up`: OrderedReady of 20 process pods (sleep; no probe, so Ready once running):
 *       per step, member N seen on the watch → member N+1 seen, split into start-to-Ready and the
 *       controller's reaction. Kubernetes' figure is structural: each step waits for a pod to be
 *       Running and Ready (kubelet start + status) before the next is created.
 * Knobs: BENCH_QUICK=1 (short runs), BENCH_VOLUMES_ROUNDS (fsyncs, 2,000), BENCH_VOLUMES_MIB (256),
 * BENCH_VOLUMES_REPS (runs per side and directory, 5).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildBusyboxLayout } from '../src/agent/runtime/runc/runc.fixture.ts';
import { keepAliveAgent, request, streamGet, type TlsCredentials } from './lib/load.ts';
import { REPO_ROOT, sleep, startBerth } from './lib/server.ts';
import { FS_TOOL, parseFs } from './lib/fs-tool.ts';
import { f, median, pct, printTable, sortNum } from './lib/stats.ts';
import { nowMs, startUp, type UpCluster } from './lib/up.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_VOLUMES_ROUNDS ?? (QUICK ? 200 : 2000));
const MIB = Number(process.env.BENCH_VOLUMES_MIB ?? (QUICK ? 32 : 256));
const REPS = Number(process.env.BENCH_VOLUMES_REPS ?? (QUICK ? 1 : 5));
const PARALLEL = QUICK ? 30 : 100;
const ORDERED = QUICK ? 5 : 20;
const SIM_NODES = 20;
const IMAGE = 'bench.local/busybox:v1';
const BERTH = join(REPO_ROOT, 'bin', 'berth');
const execAsync = promisify(execFile);


/** Pods of a namespace as one watch sees them: first sighting and first Ready, on nowMs(). */
class PodTimes {
  readonly seen = new Map<string, number>();
  readonly ready = new Map<string, number>();
  readonly bound = new Map<string, number>();
  private req: http.ClientRequest;
  constructor(url: string, tls: TlsCredentials, ns: string, selector: string) {
    let buf = '';
    this.req = streamGet(`${url}/api/v1/namespaces/${ns}/pods?watch=true&labelSelector=${encodeURIComponent(selector)}`, tls, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const t = nowMs();
        buf += chunk;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) this.onEvent(JSON.parse(line), t);
        }
      });
    });
    this.req.on('error', () => {});
  }
  private onEvent(ev: { type: string; object: any }, t: number): void {
    const name = ev.object?.metadata?.name;
    if (!name || ev.type === 'DELETED' || ev.type === 'ERROR') return;
    if (!this.seen.has(name)) this.seen.set(name, t);
    if (ev.object.spec?.nodeName && !this.bound.has(name)) this.bound.set(name, t);
    const isReady = (ev.object.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    if (isReady && !this.ready.has(name)) this.ready.set(name, t);
  }
  close(): void { this.req.destroy(); }
}

async function waitUntil(what: string, pred: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

const post = (agent: http.Agent, url: string, path: string, obj: object) => request(agent, 'POST', `${url}${path}`, JSON.stringify(obj));
const getJson = async (agent: http.Agent, url: string, path: string): Promise<any> => JSON.parse((await request(agent, 'GET', `${url}${path}`)).body.toString());

/** A StatefulSet of tiny process pods (no probe: Ready as soon as running). */
function tinySet(name: string, replicas: number, policy: 'Parallel' | 'OrderedReady', claims?: { storageClassName: string }): object {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
    spec: {
      serviceName: name, replicas, podManagementPolicy: policy, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1, dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] },
          containers: [{ name: 'main', image: 'host', command: ['sleep', '3600'], ...(claims ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}) }],
        },
      },
      ...(claims ? { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: claims.storageClassName, resources: { requests: { storage: '1Gi' } } } }] } : {}),
    },
  };
}

// ---- (a) fsync and throughput in a local-path volume ----

async function fsBench(up: UpCluster, work: string): Promise<string[][]> {
  const layout = await buildBusyboxLayout(work);
  execFileSync(BERTH, ['image', 'import', '--data-dir', up.dataDir, '--repository', 'bench.local/busybox', layout], { stdio: 'ignore' });
  const ns = '/api/v1/namespaces/default';
  const hostRo = (name: string, path: string, mountPath: string) => ({ volume: { name, hostPath: { path } }, mount: { name, mountPath, readOnly: true } });
  // The runc pod runs the host's python3: its /usr, and /lib, /lib64 (symlinks into /usr on Debian 12).
  const usr = [hostRo('usr', '/usr', '/usr'), hostRo('lib', '/usr/lib', '/lib'), hostRo('lib64', '/usr/lib64', '/lib64')];
  const pods = {
    'fs-process': { runtimeClassName: 'process', image: 'host', extra: [] as typeof usr },
    'fs-runc': { runtimeClassName: 'runc', image: IMAGE, extra: usr },
  };
  for (const [name, p] of Object.entries(pods)) {
    await post(up.agent, up.url, `${ns}/persistentvolumeclaims`, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } });
    await post(up.agent, up.url, `${ns}/pods`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'fs' } },
      spec: {
        runtimeClassName: p.runtimeClassName, terminationGracePeriodSeconds: 1, dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] },
        containers: [{ name: 'main', image: p.image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }, ...p.extra.map((e) => e.mount)] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: name } }, ...p.extra.map((e) => e.volume)],
      },
    });
  }
  const dirs = new Map<string, string>();
  await waitUntil('both fs pods Ready', async () => {
    for (const name of Object.keys(pods)) {
      const pod = await getJson(up.agent, up.url, `${ns}/pods/${name}`);
      if (!(pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')) return false;
      const claim = await getJson(up.agent, up.url, `${ns}/persistentvolumeclaims/${name}`);
      const pv = await getJson(up.agent, up.url, `/api/v1/persistentvolumes/${claim.spec.volumeName}`);
      dirs.set(name, pv.spec.local?.path ?? pv.spec.hostPath?.path);
    }
    return true;
  }, 120_000, 200);

  const cacheDir = join(work, 'kube-cache');
  const kubeconfig = join(up.dataDir, 'kubeconfig');
  const inPod = async (pod: string) => parseFs((await execAsync('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, 'exec', pod, '--',
    'python3', '-c', FS_TOOL, '/data', String(ROUNDS), String(MIB)], { maxBuffer: 64 << 20 })).stdout);
  const onHost = async (dir: string) => parseFs((await execAsync('python3', ['-c', FS_TOOL, dir, String(ROUNDS), String(MIB)], { maxBuffer: 64 << 20 })).stdout);

  const sides = ['host', 'fs-process', 'fs-runc'] as const;
  const lat: Record<string, number[]> = { host: [], 'fs-process': [], 'fs-runc': [] };
  const seq: Record<string, number[]> = { host: [], 'fs-process': [], 'fs-runc': [] };
  // Interleaved, the order rotated each repetition, so drift in the machine's load falls on every side.
  const steps: Array<{ side: (typeof sides)[number]; dir: string }> = [
    { side: 'host', dir: dirs.get('fs-process')! }, { side: 'fs-process', dir: dirs.get('fs-process')! },
    { side: 'host', dir: dirs.get('fs-runc')! }, { side: 'fs-runc', dir: dirs.get('fs-runc')! },
  ];
  const order: string[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (let s = 0; s < steps.length; s++) {
      const { side, dir } = steps[(s + rep) % steps.length];
      const r = side === 'host' ? await onHost(dir) : await inPod(side);
      const st = statSync(dir);
      if (r.dev !== st.dev || r.ino !== st.ino) throw new Error(`${side} measured another directory than ${dir}`);
      lat[side].push(...r.latUs);
      seq[side].push(r.seqMiBs);
      order.push(`${side === 'host' ? `host(${dir === dirs.get('fs-runc') ? 'runc' : 'process'} dir)` : side} ${f(pct(sortNum(r.latUs), 50) / 1000, 2)} ms ${f(r.seqMiBs, 0)} MiB/s`);
    }
  }
  const hostLat = sortNum(lat.host);
  const rows: string[][] = [];
  for (const side of sides) {
    const l = sortNum(lat[side]);
    const label = side === 'host' ? 'host, in the volume directories' : side === 'fs-process' ? 'process pod, /data' : 'runc pod, /data';
    rows.push([`${label}: 4 KiB write + fsync p50 / p99, ms`, `${f(pct(l, 50) / 1000, 2)} / ${f(pct(l, 99) / 1000, 2)}`,
      side === 'host' ? '' : `${f((pct(l, 50) - pct(hostLat, 50)) / 1000, 2)} / ${f((pct(l, 99) - pct(hostLat, 99)) / 1000, 2)}`]);
    rows.push([`  sequential ${MIB} MiB (1 MiB writes + fsync), MiB/s, median / best of ${seq[side].length}`, `${f(median(seq[side]), 0)} / ${f(Math.max(...seq[side]), 0)}`,
      side === 'host' ? '' : `${f((median(seq[side]) / median(seq.host) - 1) * 100, 1)} % / ${f((Math.max(...seq[side]) / Math.max(...seq.host) - 1) * 100, 1)} %`]);
  }
  console.log(`runs in order (fsync p50, sequential): ${order.join(' · ')}`);
  return rows;
}

// ---- (c) OrderedReady of 20 on berth up ----

async function orderedBench(up: UpCluster): Promise<{ rows: string[][]; stepP50: number }> {
  const times = new PodTimes(up.url, up.tls, 'default', 'app=ord');
  try {
    await sleep(200);
    const t0 = nowMs();
    await post(up.agent, up.url, '/apis/apps/v1/namespaces/default/statefulsets', tinySet('ord', ORDERED, 'OrderedReady'));
    await waitUntil(`${ORDERED} ordered members Ready`, () => times.ready.size >= ORDERED, 300_000);
    const name = (i: number) => `ord-${i}`;
    const steps: number[] = [];
    const startToReady: number[] = [];
    const reaction: number[] = [];
    for (let i = 0; i < ORDERED; i++) {
      const seen = times.seen.get(name(i))!;
      const ready = times.ready.get(name(i))!;
      startToReady.push(ready - seen);
      if (i + 1 < ORDERED) {
        const next = times.seen.get(name(i + 1))!;
        if (next < ready) throw new Error(`${name(i + 1)} was created before ${name(i)} was Ready`);
        steps.push(next - seen);
        reaction.push(next - ready);
      }
    }
    const total = times.ready.get(name(ORDERED - 1))! - t0;
    const s = sortNum([...steps]);
    return {
      stepP50: pct(s, 50),
      rows: [
        [`OrderedReady ${ORDERED}: member N created → N+1 created, p50 / p99 / max, ms`, `${f(pct(s, 50), 0)} / ${f(pct(s, 99), 0)} / ${f(s.at(-1)!, 0)}`, 'one pod start + Ready at a time (structural)'],
        ['  member created → Ready seen, p50 / p99, ms', `${f(pct(sortNum(startToReady), 50), 0)} / ${f(pct(sortNum(startToReady), 99), 0)}`, 'pod startup SLO: p99 ≤ 5 s'],
        ['  Ready seen → next member created (controller), p50 / p99, ms', `${f(pct(sortNum(reaction), 50), 0)} / ${f(pct(sortNum(reaction), 99), 0)}`, ''],
        [`  create → all ${ORDERED} Ready, s`, f(total / 1000, 2), ''],
      ],
    };
  } finally {
    times.close();
    // Members go before the pods (stop() deletes pods; the set would recreate them).
    await request(up.agent, 'DELETE', `${up.url}/apis/apps/v1/namespaces/default/statefulsets/ord`).catch(() => undefined);
  }
}

// ---- (b) Parallel 100 on simulated nodes ----

async function parallelBench(): Promise<string[][]> {
  const server = await startBerth({ store: 'sqlite', readyTimeoutMs: 30_000 });
  const agent = keepAliveAgent(32, server.tls);
  const sim = spawn(process.execPath, [BERTH, 'sim', '--nodes', String(SIM_NODES), '--kubeconfig', server.kubeconfig], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let simLog = '';
  sim.stdout!.on('data', (d) => { simLog = (simLog + d).slice(-4000); });
  sim.stderr!.on('data', (d) => { simLog = (simLog + d).slice(-4000); });
  const simExited = new Promise((r) => sim.once('exit', r));
  const rows: string[][] = [];
  try {
    await waitUntil(`${SIM_NODES} simulated nodes Ready`, async () => (await getJson(agent, server.url, '/api/v1/nodes')).items
      .filter((n: any) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length >= SIM_NODES, 60_000, 200)
      .catch((err) => { throw new Error(`${(err as Error).message}\n${simLog}`); });
    // Static volumes for the second set: an Immediate class (no provisioner), one PV per member.
    await post(agent, server.url, '/apis/storage.k8s.io/v1/storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'static' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'Immediate' });
    for (let i = 0; i < PARALLEL; i++) {
      await post(agent, server.url, '/api/v1/persistentvolumes', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `static-${i}` },
        spec: { storageClassName: 'static', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/srv/static-${i}` } } });
    }
    for (const [name, claims] of [['par', undefined], ['parpv', { storageClassName: 'static' }]] as const) {
      const times = new PodTimes(server.url, server.tls, 'default', `app=${name}`);
      await sleep(200);
      const t0 = nowMs();
      await post(agent, server.url, '/apis/apps/v1/namespaces/default/statefulsets', tinySet(name, PARALLEL, 'Parallel', claims));
      let readyReplicas = 0;
      await waitUntil(`${PARALLEL} Parallel members Ready`, async () => {
        readyReplicas = (await getJson(agent, server.url, `/apis/apps/v1/namespaces/default/statefulsets/${name}`)).status?.readyReplicas ?? 0;
        return readyReplicas >= PARALLEL;
      }, 300_000);
      const total = nowMs() - t0;
      times.close();
      const last = (m: Map<string, number>) => Math.max(...m.values()) - t0;
      const what = claims ? `${PARALLEL} Parallel, a claim each bound to a static PV` : `${PARALLEL} Parallel, no claims`;
      rows.push([`${what}: create → status.readyReplicas = ${PARALLEL}, s`, f(total / 1000, 2), claims ? 'a pod tried before its claim binds waits out the 1 s back-off, as in kube-scheduler' : `kube-scheduler ≈ 100–300 pods/s (published): ≥ ${f(PARALLEL / 300, 1)} s to bind ${PARALLEL}`]);
      rows.push(['  last member created / bound / Ready (watch), s', `${f(last(times.seen) / 1000, 2)} / ${f(last(times.bound) / 1000, 2)} / ${f(last(times.ready) / 1000, 2)}`, '']);
    }
  } finally {
    sim.kill('SIGTERM');
    await simExited;
    agent.destroy();
    await server.stop();
  }
  return rows;
}

export async function run(): Promise<boolean> {
  const rows = await parallelBench();
  printTable(`volumes (b) — StatefulSet on berth server + berth sim (${SIM_NODES} nodes)`, ['measure', 'Berth', 'Kubernetes'], rows,
    ['upstream creates Parallel members in slow-start batches (1, 2, 4, …; kubernetes/kubernetes#117865); no published time-to-ready figure found']);

  const work = mkdtempSync(join(tmpdir(), 'berth-bench-volumes-'));
  const up = await startUp();
  try {
    const fs = await fsBench(up, work);
    printTable(`volumes (a) — local-path volume vs the host, ${ROUNDS} fsyncs and ${MIB} MiB per run, ${REPS} runs per side (interleaved)`,
      ['measure', 'value', 'Δ pod − host'], fs, ['the same python3 and script on every side; the directory (device, inode) checked to be the volume\'s']);
    for (const name of ['fs-process', 'fs-runc']) await request(up.agent, 'DELETE', `${up.url}/api/v1/namespaces/default/pods/${name}`).catch(() => undefined);
    const ordered = await orderedBench(up);
    printTable('volumes (c) — OrderedReady on berth up (process pods)', ['measure', 'Berth', 'Kubernetes'], ordered.rows,
      ['Kubernetes creates member N+1 only once N is Running and Ready, as Berth: a step is one pod start plus the status round trip',
        'all times are receipts on one watch: events written together arrive in one chunk, so the controller\'s share rounds to 0 when it is below that']);
    return true;
  } finally {
    await up.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
