/**
 * `runc-startup`: start latency of the runc driver against the floor, from the same run.
 *   (a) RuncDriver.start → resolved (pid 1 exists) for `count` busybox `sleep` containers, one at
 *       a time: overlay mount, config.json, the shim (native/shim), `runc create`, pid file, start;
 *   (b) a bare `runc run -d` of an equivalent, already prepared bundle (rootfs mounted, same
 *       config.json from oci-spec.ts): what runc alone costs.
 * The two are interleaved (a, b, a, b …) so both see the same load. Needs root, runc, umoci,
 * tini-static. Everything it creates is removed (containers, mounts, cgroups, temp dirs).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountRootfs, unmountRootfs } from '../src/agent/images/rootfs.ts';
import { hostCgroupLayout } from '../src/agent/runtime/cgroups/index.ts';
import type { ContainerSpec } from '../src/agent/runtime/driver.ts';
import { buildOciSpec } from '../src/agent/runtime/runc/oci-spec.ts';
import { allCgroupRoots, removeEmptyCgroupPath } from '../src/agent/runtime/runc/runc-cgroups.ts';
import { runcDelete, runcGlobal } from '../src/agent/runtime/runc/runc-cli.ts';
import { RuncDriver } from '../src/agent/runtime/runc/runc-driver.ts';
import { busyboxImageService, TEST_IMAGE } from '../src/agent/runtime/runc/runc.fixture.ts';
import { f, pct, printTable, sortNum } from './lib/stats.ts';

/**
 * Runs `runc run -d` and resolves when runc exits. The container inherits runc's stdio (no TTY:
 * runc passes it through), so runc's output goes to a file: a pipe would stay open as long as
 * the container runs.
 */
function runcRunDetached(bin: string, args: string[], errFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const err = openSync(errFile, 'w');
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', err] });
    closeSync(err);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run -d: exit ${code}: ${readFileSync(errFile, 'utf8').trim()}`))));
  });
}

/** A busybox `sleep` container spec, the same for the driver and the bare bundles. */
function benchSpec(id: string, cgroupParent: string, logDir: string): ContainerSpec {
  return {
    id, podUid: 'bench', podName: 'bench', podNamespace: 'default', containerName: id, image: TEST_IMAGE,
    argv: ['sleep', '3600'], env: {}, mounts: [],
    resources: { memoryLimitBytes: 64 << 20, cpuLimitMillis: 500, pidsLimit: 64 },
    hostname: 'bench', logPath: join(logDir, `${id}.log`), cgroupParent,
  };
}

/** A bundle for bare runc, prepared outside any timing: rootfs mounted, config.json as the driver writes it. */
async function prepareBareBundle(tmp: string, layerDirs: string[], id: string, cgroupParent: string): Promise<string> {
  const bundle = join(tmp, 'bundles', id);
  mkdirSync(bundle, { recursive: true });
  const rootfs = await mountRootfs(layerDirs, bundle);
  const oci = buildOciSpec(
    { ...benchSpec(id, cgroupParent, join(tmp, 'logs')), env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' } },
    { rootfsPath: rootfs.path, initHostPath: '/usr/bin/tini-static', cgroupVersion: hostCgroupLayout().mode === 'v2' ? 'v2' : 'v1', swapAccounting: true },
  );
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(oci));
  return bundle;
}

/** Prints the table; returns the sorted latencies, ms: (a) the driver, (b) bare runc. */
export async function runcStartupBench(opts: { count: number }): Promise<{ driver: number[]; bare: number[] }> {
  if (process.getuid?.() !== 0) throw new Error('runc-startup needs root');
  const tmp = mkdtempSync(join(tmpdir(), 'berth-runc-test-bench-'));
  const parent = `berth-runc-test-bench-${process.pid}/pod`;
  const images = await busyboxImageService(join(tmp, 'fixture'), join(tmp, 'data'));
  const image = (await images.get(TEST_IMAGE))!;
  const driver = new RuncDriver({ stateDir: join(tmp, 'containers'), runcRoot: join(tmp, 'runc-root'), images });
  const bareRoot = { bin: driver.runc.bin, root: join(tmp, 'bare-root') };
  const driverIds: string[] = [];
  const bareIds: string[] = [];
  const a: number[] = [];
  const b: number[] = [];
  const spec = (id: string): ContainerSpec => benchSpec(id, parent, join(tmp, 'logs'));
  try {
    for (let i = 0; i < opts.count; i++) {
      // (a) the driver, everything included.
      const id = `bench-drv-${i}`;
      let t0 = performance.now();
      await driver.start(spec(id));
      a.push(performance.now() - t0);
      driverIds.push(id);
      // (b) bare runc on a bundle prepared beforehand (outside the timing).
      const bid = `bench-bare-${i}`;
      const bundle = await prepareBareBundle(tmp, image.layerDirs, bid, parent);
      bareIds.push(bid);
      t0 = performance.now();
      await runcRunDetached(bareRoot.bin, [...runcGlobal(bareRoot), 'run', '-d', '--bundle', bundle, bid], join(bundle, 'runc.err'));
      b.push(performance.now() - t0);
    }
  } finally {
    for (const id of driverIds) await driver.destroy(id).catch((e: Error) => console.error(`destroy ${id}: ${e.message}`));
    for (const id of bareIds) {
      await runcDelete(bareRoot, id).catch((e: Error) => console.error(e.message));
      await unmountRootfs(join(tmp, 'bundles', id), { remove: true }).catch(() => {});
    }
    removeEmptyCgroupPath(allCgroupRoots(), parent);
    rmSync(tmp, { recursive: true, force: true });
  }
  sortNum(a);
  sortNum(b);
  const row = (name: string, xs: number[]) => [name, f(pct(xs, 50), 1), f(pct(xs, 99), 1), f(xs[0]!, 1), f(xs[xs.length - 1]!, 1)];
  printTable(
    `runc-startup — ${opts.count} busybox sleep containers, one at a time, interleaved`,
    ['measure (ms)', 'p50', 'p99', 'min', 'max'],
    [row('(a) RuncDriver.start → pid 1 running', a), row('(b) bare runc run -d, bundle ready (floor)', b)],
    [`driver overhead over the floor: p50 +${f(pct(a, 50) - pct(b, 50), 1)} ms, p99 +${f(pct(a, 99) - pct(b, 99), 1)} ms`],
  );
  return { driver: a, bare: b };
}

/**
 * The floor of a burst: `count` bare `runc run -d` of prepared bundles (equivalent to the pods'
 * containers), all submitted at once to `concurrency` runners, as a node agent receiving `count`
 * pods at once would start them. Latency = submission → runc returned (pid 1 running), sorted.
 */
export async function bareRuncBurst(opts: { count: number; concurrency: number }): Promise<number[]> {
  if (process.getuid?.() !== 0) throw new Error('runc-startup needs root');
  const tmp = mkdtempSync(join(tmpdir(), 'berth-runc-burst-bench-'));
  const parent = `berth-runc-burst-bench-${process.pid}/pod`;
  const images = await busyboxImageService(join(tmp, 'fixture'), join(tmp, 'data'));
  const image = (await images.get(TEST_IMAGE))!;
  const bare = { bin: new RuncDriver({ stateDir: join(tmp, 'containers'), runcRoot: join(tmp, 'runc-root'), images }).runc.bin, root: join(tmp, 'bare-root') };
  const ids = Array.from({ length: opts.count }, (_, i) => `bench-burst-${i}`);
  const started: string[] = [];
  const lat: number[] = [];
  try {
    for (const id of ids) await prepareBareBundle(tmp, image.layerDirs, id, parent); // outside the timing
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const bundle = join(tmp, 'bundles', id);
        await runcRunDetached(bare.bin, [...runcGlobal(bare), 'run', '-d', '--bundle', bundle, id], join(bundle, 'runc.err'));
        started.push(id);
        lat.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    for (const id of started) await runcDelete(bare, id).catch((e: Error) => console.error(e.message));
    for (const id of ids) await unmountRootfs(join(tmp, 'bundles', id), { remove: true }).catch(() => {});
    removeEmptyCgroupPath(allCgroupRoots(), parent);
    rmSync(tmp, { recursive: true, force: true });
  }
  return sortNum(lat);
}

/** `npm run bench -- runc`: 30 containers; the 500 ms and 2× targets are read off the printed table. */
export async function run(): Promise<boolean> {
  await runcStartupBench({ count: Number(process.env.BENCH_RUNC_COUNT ?? 30) });
  return true;
}
