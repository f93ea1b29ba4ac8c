/**
 * The `process` runtime: a pod container is a host command (convention `image: host`) run on the
 * host's own file system — no root fs copy — inside private pid/mount/uts namespaces, the pod's
 * network namespace, a cgroup with the container's limits, and optionally another user. Each
 * container has a detached shim (native/shim) that sets it up, owns its stdio and writes the
 * CRI log and the exit record, so containers keep running and logging while the agent restarts.
 */
import { closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readlinkSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Cgroup, hostCgroupLayout, type CgroupLayout } from '../cgroups/index.ts';
import type { ContainerHandle, ContainerSpec, DriverCapabilities, ExecOptions, ExitResult, RuntimeDriver } from '../driver.ts';
import { hostTools, type HostTools } from '../../../host/host-tools.ts';
import { hostPathOf, withDefaultPath } from '../shared/container-paths.ts';
import { procParentAndGroup, procStartTime, sameProcessAlive, signalProcess } from '../shared/proc.ts';
import { ShimContainers } from '../shared/shim-containers.ts';
import { shimEnv } from '../shared/shim-env.ts';
import { writeEnvFile } from '../shared/shim-files.ts';
import { launchShim, type LaunchedShim } from '../shared/shim-launch.ts';
import { nativeChain, noNewPrivs } from './chain.ts';
import { execInContainer } from './nsenter-exec.ts';
import { mountPointsOf, prepareMountPoints, removeMountPoints } from './mount-points.ts';
import { resolveExecutable } from './resolve-executable.ts';
import type { ProcessState } from './state.ts';

/** The FIFO of a TTY container's "COLS ROWS" lines, in its state dir. */
const RESIZE_FIFO = 'resize';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Options of the process driver. */
export interface ProcessDriverOptions {
  /** Where container state lives: DATA_DIR/runtime/process. */
  stateDir: string;
  /** Defaults to the machine's detected layout. */
  cgroupLayout?: CgroupLayout;
  /** How long start() waits for the shim to report the container's pids. */
  startTimeoutMs?: number;
}

/** Host processes as containers; see the module comment and README.md. */
export class ProcessDriver implements RuntimeDriver {
  readonly name = 'process';
  readonly capabilities: DriverCapabilities;
  private readonly layout: CgroupLayout;
  private readonly tools: HostTools;
  private readonly containers: ShimContainers<ProcessState>;

  constructor(private readonly opts: ProcessDriverOptions) {
    this.layout = opts.cgroupLayout ?? hostCgroupLayout();
    this.tools = hostTools();
    this.capabilities = { images: false, exec: true, tty: true, oomDetection: true, recover: true, cgroups: this.layout.mode };
    this.containers = new ShimContainers('process', opts.stateDir, this.layout);
  }

  async start(spec: ContainerSpec): Promise<ContainerHandle> {
    // A process container starts in ~7 ms: nothing to gain from overlapping it with the network.
    if (spec.startGate) await spec.startGate;
    const dir = this.containers.dir(spec.id);
    if (existsSync(dir)) throw new Error(`process runtime: container ${spec.id} already exists`);
    const env = withDefaultPath(spec.env);
    // Everything that can be checked is checked before anything is created: a bad spec leaks nothing.
    resolveExecutable(spec.argv[0], env, spec.workingDir, spec.mounts);
    if (spec.workingDir && !existsSync(hostPathOf(spec.workingDir, spec.mounts))) {
      throw new Error(`chdir to cwd ("${spec.workingDir}") set in config: no such file or directory`);
    }
    // The shim's own env: log limits and, with stdin: true, the FIFO the command reads (attach -i
    // writes into it). The container's env is read from the env file.
    const shimVars = shimEnv(spec, { runtime: 'process', dir, stdinFifo: !!spec.stdin });
    const created = prepareMountPoints(spec.mounts);
    const cg = new Cgroup(this.layout, join(spec.cgroupParent, spec.id));
    let shim: LaunchedShim | undefined;
    try {
      mkdirSync(dir, { mode: 0o700 });
      writeEnvFile(dir, env);
      cg.create(spec.resources);
      mkdirSync(dirname(spec.logPath), { recursive: true });
      const shimLogPath = join(dir, 'shim.log');
      // The shim sets the container up itself (namespaces, mounts, hostname: see chain.ts) and
      // reports once tini has forked the command: Running never precedes the process.
      const args = [dir, spec.logPath, String(cg.procsFiles.length), ...cg.procsFiles, ...nativeChain(this.tools, spec)];
      // The shim runs in its own session: agent signals and exits don't reach it. Only fd 3 (the
      // ready line) leads back to us, and the shim closes it at once.
      // tty: true — a pseudo-terminal the shim holds (the FIFO's bytes are typed into it); sizes
      // come through a second FIFO (resize()).
      if (spec.tty) Object.assign(shimVars, { BERTH_TTY: '1', BERTH_RESIZE_FIFO: join(dir, RESIZE_FIFO) });
      const timeoutMs = this.opts.startTimeoutMs ?? 5000;
      const launched = await launchShim({ args, env: shimVars, shimLog: shimLogPath, timeoutMs, runtime: 'process', onExit: this.containers.shimExited });
      shim = launched;
      const [chainPid, initPid] = await launched.ready;
      const startedAt = new Date();
      const state: ProcessState = {
        id: spec.id,
        shimPid: shim.pid,
        shimStartTime: procStartTime(shim.pid) ?? 0,
        chainPid,
        initPid,
        initStartTime: procStartTime(initPid) ?? 0,
        startedAtMs: startedAt.getTime(),
        cgroupPath: cg.relPath,
        logPath: spec.logPath,
        env,
        user: spec.user,
        noNewPrivs: noNewPrivs(spec),
        workingDir: spec.workingDir,
        createdPaths: created,
      };
      this.containers.write(state);
      shim.unref();
      return { id: spec.id, pid: initPid || chainPid, startedAt };
    } catch (err) {
      shim?.kill('SIGKILL');
      await cg.killAll('SIGKILL').catch(() => {});
      await cg.remove().catch(() => {});
      if (created.length) removeMountPoints(created, this.othersMountPoints(spec.id));
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  stdinPath(id: string): string | undefined {
    return this.containers.stdinPath(id);
  }

  /** What the other containers of this driver have mounted (their mount points must stay). */
  private othersMountPoints(id: string): Set<string> {
    const pids = this.containers.list().filter((c) => c !== id).map((c) => this.containers.read(c)).map((st) => st?.initPid || st?.chainPid || 0).filter((p) => p > 0);
    return mountPointsOf(pids);
  }

  resize(id: string, size: { width: number; height: number }): void {
    // The shim holds the FIFO open read-write: a non-blocking open for writing succeeds while it runs.
    try {
      const fd = openSync(join(this.containers.dir(id), RESIZE_FIFO), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      try { writeSync(fd, `${Math.round(size.width)} ${Math.round(size.height)}\n`); } finally { closeSync(fd); }
    } catch {
      /* no terminal, or the container is gone */
    }
  }

  releaseStdin(id: string): void {
    this.containers.releaseStdin(id);
  }

  wait(id: string): Promise<ExitResult> {
    return this.containers.wait(id);
  }

  async stop(id: string, timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const st = this.containers.state(id);
    if (this.containers.exited(id)) return;
    const deadline = Date.now() + timeoutMs;
    await this.initReady(st, Math.min(timeoutMs, 2000));
    // tini forwards the signal to the command's process group; if tini is gone, signal the chain.
    signalProcess(sameProcessAlive(st.initPid, st.initStartTime) ? st.initPid : st.chainPid, signal);
    if (await this.containers.exitedWithin(id, Math.max(0, deadline - Date.now()))) return;
    await new Cgroup(this.layout, st.cgroupPath).killAll('SIGKILL');
    if (!(await this.containers.exitedWithin(id, 5000))) throw new Error(`process runtime: ${id} did not exit after SIGKILL`);
  }

  /**
   * Waits until tini runs as the container's pid 1 and has started the command in its own process
   * group: a signal sent earlier, while unshare or the setup script is pid 1, would be lost, and an
   * exec would see the mounts half done. Returns false on timeout or exit.
   */
  private async initReady(st: ProcessState, timeoutMs: number): Promise<boolean> {
    const tini = realpathSync(this.tools.tini);
    const cg = new Cgroup(this.layout, st.cgroupPath);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!sameProcessAlive(st.initPid, st.initStartTime)) return false;
      let exe = '';
      try {
        exe = readlinkSync(`/proc/${st.initPid}/exe`);
      } catch {
        /* exiting */
      }
      if (exe === tini) {
        const child = cg.pids().find((p) => {
          const pg = procParentAndGroup(p);
          return pg?.ppid === st.initPid && pg.pgid === p;
        });
        if (child) return true;
      }
      if (Date.now() > deadline) return false;
      await sleep(5);
    }
  }

  async destroy(id: string): Promise<void> {
    const dir = this.containers.dir(id);
    if (!existsSync(dir)) return;
    const st = this.containers.read(id);
    if (st) {
      const cg = new Cgroup(this.layout, st.cgroupPath);
      if (!this.containers.exited(id)) {
        await cg.killAll('SIGKILL').catch(() => {});
        if (!(await this.containers.exitedWithin(id, 5000)) && sameProcessAlive(st.shimPid, st.shimStartTime)) signalProcess(st.shimPid);
      }
      await cg.remove();
      // Read only when there is something to remove: it reads every other container's mountinfo, which
      // made deleting n pods cost n² reads (13 % of berth up's thread in bench pods, 2026-12-07).
      if (st.createdPaths.length) removeMountPoints(st.createdPaths, this.othersMountPoints(id));
    }
    rmSync(dir, { recursive: true, force: true });
    this.containers.forget(id);
  }

  async recover(id: string): Promise<ContainerHandle | undefined> {
    // The chain's pid when the container died before tini existed.
    return this.containers.recover(id, (st) => st.initPid || st.chainPid);
  }

  async list(): Promise<string[]> {
    return this.containers.list();
  }

  async exec(id: string, opts: ExecOptions): Promise<number> {
    const st = this.containers.state(id);
    if (this.containers.exited(id) || !sameProcessAlive(st.initPid, st.initStartTime)) {
      throw new Error(`process runtime: container ${id} is not running`);
    }
    await this.initReady(st, 5000);
    return execInContainer(this.tools, new Cgroup(this.layout, st.cgroupPath), st, opts);
  }
}
