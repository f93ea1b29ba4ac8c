/**
 * The `process` runtime: a pod container is a host command (convention `image: host`) run on the
 * host's own file system — no root fs copy — inside private pid/mount/uts namespaces, the pod's
 * network namespace, a cgroup with the container's limits, and optionally another user. Each
 * container has a detached shim (native/shim) that sets it up, owns its stdio and writes the
 * CRI log and the exit record, so containers keep running and logging while the agent restarts.
 */
import { closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readdirSync, readlinkSync, realpathSync, rmSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { Cgroup, hostCgroupLayout, type CgroupLayout } from '../cgroups/index.ts';
import { exitResultOf, settlesWithin } from '../exit-result.ts';
import type { ContainerHandle, ContainerSpec, DriverCapabilities, ExecOptions, ExitResult, RuntimeDriver } from '../driver.ts';
import { nativeChain } from './chain.ts';
import { execInContainer } from './exec.ts';
import { hostTools, type HostTools } from '../../../host/host-tools.ts';
import { prepareMountPoints, removeMountPoints } from './mount-points.ts';
import { DEFAULT_PATH, hostPathOf, resolveExecutable } from './resolve-executable.ts';
import { launchShim, type LaunchedShim } from './shim-launch.ts';
import { STDIN_FIFO, stdinFifoOf } from './stdin-fifo.ts';
import { procParentAndGroup, procStartTime, readExit, readState, sameProcessAlive, writeEnvFile, writeState, type ExitRecord, type ProcessState } from './state.ts';

/** The FIFO of a TTY container's "COLS ROWS" lines, in its state dir. */
const RESIZE_FIFO = 'resize';
/** The safety-net sweep over every watched container (exits are seen by events before that). */
const SWEEP_MS = 10_000;
/** The per-container poll, only for a container whose state dir cannot be watched. */
const POLL_MS = 2000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Log rotation defaults: the kubelet's containerLogMaxSize (10Mi) and containerLogMaxFiles (5). */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 5;

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
  private readonly waits = new Map<string, Promise<ExitResult>>();
  /** Containers whose exit is awaited: the sweep checks them all in one timer wake-up. */
  private readonly watching = new Map<string, { check(): void; shimPid: number }>();
  private sweepTimer?: NodeJS.Timeout;

  constructor(private readonly opts: ProcessDriverOptions) {
    this.layout = opts.cgroupLayout ?? hostCgroupLayout();
    this.tools = hostTools();
    this.capabilities = { images: false, exec: true, tty: true, oomDetection: true, recover: true, cgroups: this.layout.mode };
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  }

  private dir(id: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new Error(`process runtime: invalid container id ${JSON.stringify(id)}`);
    return join(this.opts.stateDir, id);
  }

  private state(id: string): ProcessState {
    const st = readState(this.dir(id));
    if (!st) throw new Error(`process runtime: no such container ${id}`);
    return st;
  }

  async start(spec: ContainerSpec): Promise<ContainerHandle> {
    // A process container starts in ~7 ms: nothing to gain from overlapping it with the network.
    if (spec.startGate) await spec.startGate;
    const dir = this.dir(spec.id);
    if (existsSync(dir)) throw new Error(`process runtime: container ${spec.id} already exists`);
    const env = 'PATH' in spec.env ? { ...spec.env } : { ...spec.env, PATH: DEFAULT_PATH };
    // Everything that can be checked is checked before anything is created: a bad spec leaks nothing.
    resolveExecutable(spec.argv[0], env, spec.workingDir, spec.mounts);
    if (spec.workingDir && !existsSync(hostPathOf(spec.workingDir, spec.mounts))) {
      throw new Error(`chdir to cwd ("${spec.workingDir}") set in config: no such file or directory`);
    }
    const logMaxBytes = spec.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES;
    const logMaxFiles = spec.logMaxFiles ?? DEFAULT_LOG_MAX_FILES;
    if (!Number.isSafeInteger(logMaxBytes) || logMaxBytes < 1) throw new Error(`process runtime: logMaxBytes must be a positive integer, not ${logMaxBytes}`);
    if (!Number.isSafeInteger(logMaxFiles) || logMaxFiles < 1) throw new Error(`process runtime: logMaxFiles must be a positive integer, not ${logMaxFiles}`);
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
      // The shim's own env carries only the log limits; the container's env is read from the env file.
      const shimEnv: Record<string, string> = { BERTH_LOG_MAX_BYTES: String(logMaxBytes), BERTH_LOG_MAX_FILES: String(logMaxFiles) };
      // stdin: true — the command reads a FIFO the shim makes (attach -i writes into it).
      if (spec.stdin) shimEnv.BERTH_STDIN_FIFO = join(dir, STDIN_FIFO);
      if (spec.stdin && spec.stdinOnce && !spec.tty) shimEnv.BERTH_STDIN_ONCE = '1';
      // tty: true — a pseudo-terminal the shim holds (the FIFO's bytes are typed into it); sizes
      // come through a second FIFO (resize()).
      if (spec.tty) Object.assign(shimEnv, { BERTH_TTY: '1', BERTH_RESIZE_FIFO: join(dir, RESIZE_FIFO) });
      const timeoutMs = this.opts.startTimeoutMs ?? 5000;
      const launched = await launchShim({ args, env: shimEnv, shimLog: shimLogPath, timeoutMs, runtime: 'process', onExit: (pid) => this.shimExited(pid) });
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
        workingDir: spec.workingDir,
        createdPaths: created,
      };
      writeState(dir, state);
      shim.unref();
      return { id: spec.id, pid: initPid || chainPid, startedAt };
    } catch (err) {
      shim?.kill('SIGKILL');
      await cg.killAll('SIGKILL').catch(() => {});
      await cg.remove().catch(() => {});
      removeMountPoints(created);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  stdinPath(id: string): string | undefined {
    return stdinFifoOf(this.dir(id));
  }

  resize(id: string, size: { width: number; height: number }): void {
    // The shim holds the FIFO open read-write: a non-blocking open for writing succeeds while it runs.
    try {
      const fd = openSync(join(this.dir(id), RESIZE_FIFO), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      try { writeSync(fd, `${Math.round(size.width)} ${Math.round(size.height)}\n`); } finally { closeSync(fd); }
    } catch {
      /* no terminal, or the container is gone */
    }
  }

  releaseStdin(id: string): void {
    const st = this.state(id);
    // SIGUSR1: the shim closes its write end of the stdin FIFO (only shims started with stdinOnce handle it).
    if (sameProcessAlive(st.shimPid, st.shimStartTime)) process.kill(st.shimPid, 'SIGUSR1');
  }

  wait(id: string): Promise<ExitResult> {
    let p = this.waits.get(id);
    if (!p) {
      const st = this.state(id);
      p = this.watchExit(id, st);
      this.waits.set(id, p);
    }
    return p;
  }

  /**
   * Resolves from the shim's exit file. Event-driven: fs.watch on the state dir sees the exit record
   * land, and a shim this agent started through the spawn helper is reported when it exits. A sweep
   * every SWEEP_MS over all watched containers is the safety net (a shim killed without writing its
   * record after an agent restart); only a container whose dir cannot be watched is polled on its own.
   */
  private watchExit(id: string, st: ProcessState): Promise<ExitResult> {
    const dir = this.dir(id);
    return new Promise((resolve) => {
      let watcher: FSWatcher | undefined;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (rec: ExitRecord) => {
        if (done) return;
        done = true;
        watcher?.close();
        clearInterval(timer);
        this.unwatch(id);
        resolve(this.toResult(st, rec));
      };
      const check = () => {
        if (done) return;
        const exitFile = join(dir, 'exit');
        const rec = existsSync(exitFile) ? readExit(dir) : undefined;
        if (rec) return finish(rec);
        // Destroyed under us, or the shim died without a record (killed by hand): report a kill.
        if (!existsSync(dir) || (!sameProcessAlive(st.shimPid, st.shimStartTime) && !readExit(dir))) {
          finish(readExit(dir) ?? { exitCode: 137, signal: 9, finishedAtMs: Date.now() });
        }
      };
      try {
        watcher = watch(dir, check);
        watcher.on('error', () => {});
      } catch {
        // No inotify watch to be had: this container is polled on its own (the old way).
        timer = setInterval(check, POLL_MS);
        timer.unref();
      }
      this.watching.set(id, { check, shimPid: st.shimPid });
      this.ensureSweep();
      check();
    });
  }

  private ensureSweep(): void {
    if (this.sweepTimer || this.watching.size === 0) return;
    this.sweepTimer = setInterval(() => { for (const w of [...this.watching.values()]) w.check(); }, SWEEP_MS);
    this.sweepTimer.unref();
  }

  private unwatch(id: string): void {
    this.watching.delete(id);
    if (this.watching.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** The spawn helper saw a shim exit: check its container now. */
  private shimExited(pid: number): void {
    for (const w of this.watching.values()) if (w.shimPid === pid) w.check();
  }

  private toResult(st: ProcessState, rec: ExitRecord): ExitResult {
    return exitResultOf(rec, this.layout, st.cgroupPath);
  }

  /** wait() bounded by a timeout; true if the container exited in time. */
  private exitedWithin(id: string, ms: number): Promise<boolean> {
    return settlesWithin(this.wait(id), ms);
  }

  async stop(id: string, timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const st = this.state(id);
    if (readExit(this.dir(id))) return;
    const deadline = Date.now() + timeoutMs;
    await this.initReady(st, Math.min(timeoutMs, 2000));
    // tini forwards the signal to the command's process group; if tini is gone, signal the chain.
    const target = sameProcessAlive(st.initPid, st.initStartTime) ? st.initPid : st.chainPid;
    try {
      process.kill(target, signal);
    } catch {
      /* already exiting */
    }
    if (await this.exitedWithin(id, Math.max(0, deadline - Date.now()))) return;
    await new Cgroup(this.layout, st.cgroupPath).killAll('SIGKILL');
    if (!(await this.exitedWithin(id, 5000))) throw new Error(`process runtime: ${id} did not exit after SIGKILL`);
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
    const dir = this.dir(id);
    if (!existsSync(dir)) return;
    const st = readState(dir);
    if (st) {
      const cg = new Cgroup(this.layout, st.cgroupPath);
      if (!readExit(dir)) {
        await cg.killAll('SIGKILL').catch(() => {});
        if (!(await this.exitedWithin(id, 5000)) && sameProcessAlive(st.shimPid, st.shimStartTime)) {
          process.kill(st.shimPid, 'SIGKILL');
        }
      }
      await cg.remove();
      removeMountPoints(st.createdPaths);
    }
    rmSync(dir, { recursive: true, force: true });
    this.waits.delete(id);
  }

  async recover(id: string): Promise<ContainerHandle | undefined> {
    const st = readState(this.dir(id));
    if (!st) return undefined;
    // A container that exited while the agent was away is still reported, so wait() can tell how.
    const alive = sameProcessAlive(st.shimPid, st.shimStartTime);
    if (!alive && !readExit(this.dir(id))) return undefined;
    return { id, pid: st.initPid || st.chainPid, startedAt: new Date(st.startedAtMs) };
  }

  async list(): Promise<string[]> {
    return readdirSync(this.opts.stateDir).filter((d) => existsSync(join(this.opts.stateDir, d, 'state.json')));
  }

  async exec(id: string, opts: ExecOptions): Promise<number> {
    const st = this.state(id);
    if (readExit(this.dir(id)) || !sameProcessAlive(st.initPid, st.initStartTime)) {
      throw new Error(`process runtime: container ${id} is not running`);
    }
    await this.initReady(st, 5000);
    return execInContainer(this.tools, new Cgroup(this.layout, st.cgroupPath), st, opts);
  }
}

/** The helper-started shim's ready line, bounded like readReady (with the shim's log on failure). */
