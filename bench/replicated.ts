/**
 * `replicated`: what a replicated volume costs against a local one (issue 16). `berth lab up --nodes 3
 * --storage` (three real agents in network namespaces, each with its own glusterd), one claim of
 * class `replicated` (replica 3 over the three nodes, quorum on) and one of `local-path`, both bound
 * for process pods on node-1. Then, interleaved (local, replicated, local, …, BENCH_REPLICATED_REPS
 * runs each), a pod on node-1 runs the shared in-volume tool (lib/fs-tool.ts): 4 KiB write + fsync
 * × BENCH_REPLICATED_ROUNDS (2,000) → p50/p99, and BENCH_REPLICATED_MIB (256) MiB of 1 MiB writes
 * + one fsync → MiB/s. The replicated side goes through FUSE and TCP to three bricks (one on the
 * writer's node), an fsync being acknowledged by each; all bricks share this machine's one disk, so
 * the writes land on it three times. Finally the resident memory of each storage node's gluster
 * processes: glusterd, its brick (glusterfsd) and self-heal daemon (glusterfs --volfile-id shd/…),
 * and the FUSE client on the writer's node.
 * Needs root; run alone (`flock /tmp/berth-e2e.lock npm run bench -- replicated`). No target: the
 * figures are the peer comparison the issue asks for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startLab, type TestLab } from '../src/lab/lab.fixture.ts';
import { FS_TOOL, parseFs } from './lib/fs-tool.ts';
import { memOf } from './lib/proc.ts';
import { f, median, pct, printTable, sleep, sortNum } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_REPLICATED_ROUNDS ?? (QUICK ? 200 : 2000));
const MIB = Number(process.env.BENCH_REPLICATED_MIB ?? (QUICK ? 32 : 256));
const REPS = Number(process.env.BENCH_REPLICATED_REPS ?? (QUICK ? 1 : 3));

/** Pids whose command line mentions `needle`, with it. */
function processes(needle: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.includes(needle))) out.push({ pid: Number(p), cmd: cmd.join(' ') });
    } catch { /* gone */ }
  }
  return out;
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { if (await fn()) return; } catch { /* busy API: poll again */ }
    if (Date.now() > end) throw new Error(`replicated: timed out waiting for ${what}`);
    await sleep(500);
  }
}

export async function run(): Promise<boolean> {
  if (process.getuid?.() !== 0) throw new Error('replicated needs root (berth lab)');
  let lab: TestLab | undefined;
  try {
    lab = await startLab({ nodes: 3, storage: true });
    const l = lab;
    const k = async (args: string[], input?: string) => {
      const r = await l.kubectl(args, input, 600_000);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const claim = (name: string, cls: string) => JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } });
    await k(['apply', '-f', '-'], claim('rep', 'replicated'));
    await k(['apply', '-f', '-'], claim('loc', 'local-path'));
    await until('the replicated volume Ready', async () => {
      const c = JSON.parse(await k(['get', 'pvc', 'rep', '-o', 'json']));
      if (!c.spec.volumeName) return false;
      return JSON.parse(await k(['get', 'pv', c.spec.volumeName, '-o', 'json'])).metadata.annotations?.['storage.berth.dev/volume-state'] === 'Ready';
    }, 300_000);
    let n = 0;
    const measure = async (claimName: string) => {
      const name = `fs-${claimName}-${n++}`;
      await k(['apply', '-f', '-'], JSON.stringify({
        apiVersion: 'v1', kind: 'Pod', metadata: { name },
        spec: {
          // Scheduled (not nodeName): a local-path claim is provisioned on the node the scheduler picks.
          nodeSelector: { 'kubernetes.io/hostname': 'node-1' }, restartPolicy: 'Never', terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: 'host', command: ['python3', '-c', FS_TOOL, '/data', String(ROUNDS), String(MIB)], volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
          volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }],
        },
      }));
      await until(`${name} done`, async () => ['Succeeded', 'Failed'].includes(JSON.parse(await k(['get', 'pod', name, '-o', 'json'])).status?.phase), 900_000);
      const out = await k(['logs', name]);
      await k(['delete', 'pod', name, '--wait=true']);
      return parseFs(out);
    };
    const lat: Record<string, number[]> = { loc: [], rep: [] };
    const seq: Record<string, number[]> = { loc: [], rep: [] };
    const order: string[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      for (const side of rep % 2 === 0 ? ['loc', 'rep'] : ['rep', 'loc']) {
        const r = await measure(side);
        lat[side].push(...r.latUs);
        seq[side].push(r.seqMiBs);
        order.push(`${side} ${f(pct(sortNum(r.latUs), 50) / 1000, 2)} ms ${f(r.seqMiBs, 0)} MiB/s`);
      }
    }
    // Memory, while the volume is in use (a pod holds the mount).
    const holder = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'holder' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'host', command: ['sleep', '600'], volumeMounts: [{ name: 'd', mountPath: '/data' }] }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'rep' } }] } });
    await k(['apply', '-f', '-'], holder);
    await until('holder Running', async () => JSON.parse(await k(['get', 'pod', 'holder', '-o', 'json'])).status?.phase === 'Running', 120_000);
    const mem: string[][] = [];
    for (const node of l.state().nodes) {
      const root = path.join(node.dataDir, 'replicated');
      const procs = processes(root).filter((p) => !p.cmd.startsWith('gluster '));
      const sum = (pred: (c: string) => boolean) => procs.filter((p) => pred(p.cmd)).reduce((a, p) => a + memOf(p.pid).rssMb, 0);
      const glusterd = sum((c) => /glusterd /.test(c) || c.startsWith('glusterd'));
      const bricks = sum((c) => c.includes('glusterfsd'));
      const shd = sum((c) => c.includes('shd/'));
      const fuse = processes(path.join(node.dataDir, 'pods')).filter((p) => p.cmd.includes('--process-name fuse')).reduce((a, p) => a + memOf(p.pid).rssMb, 0);
      mem.push([`${node.name}: glusterd + glusterfsd (1 brick) / + self-heal daemon${fuse ? ' / FUSE client' : ''}, RSS MB`, `${f(glusterd + bricks, 1)} (${f(glusterd, 1)} + ${f(bricks, 1)}) / ${f(glusterd + bricks + shd, 1)}${fuse ? ` / ${f(fuse, 1)}` : ''}`, '']);
    }
    const l50 = (s: string) => pct(sortNum(lat[s]), 50) / 1000;
    const l99 = (s: string) => pct(sortNum(lat[s]), 99) / 1000;
    printTable(`replicated — replica 3 on 3 lab nodes vs local-path, ${ROUNDS} fsyncs and ${MIB} MiB per run, ${REPS} runs per side (interleaved), from a process pod on node-1`,
      ['measure', 'replicated (Berth)', 'local-path (peer)'], [
        ['4 KiB write + fsync p50 / p99, ms', `${f(l50('rep'), 2)} / ${f(l99('rep'), 2)}`, `${f(l50('loc'), 2)} / ${f(l99('loc'), 2)}`],
        [`sequential ${MIB} MiB (1 MiB writes + fsync), MiB/s, median / best`, `${f(median(seq.rep), 0)} / ${f(Math.max(...seq.rep), 0)}`, `${f(median(seq.loc), 0)} / ${f(Math.max(...seq.loc), 0)}`],
        ...mem,
      ], [`runs in order: ${order.join(' · ')}`]);
    return true;
  } finally {
    await lab?.down();
  }
}
