/**
 * The `runc` runtime: pod containers from OCI images. The image's layers are mounted as an
 * overlay rootfs in the container's directory, which is also the OCI bundle (config.json from
 * oci-spec.ts). The detached shim (native/shim) runs `runc create` (`runc run` in the foreground for
 * a TTY) as its child, so log capture (CRI format + rotation), the exit record and the
 * independence from the agent process are the process driver's, unchanged. See README.md.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { mountRootfs, unmountRootfs } from '../../images/rootfs.ts';
import { Cgroup, hostCgroupLayout, type CgroupLayout } from '../cgroups/index.ts';
import type { ContainerHandle, ContainerSpec, DriverCapabilities, ExecOptions, ExitResult, RuntimeDriver } from '../driver.ts';
import { findHostTool, hostTools, type HostTools } from '../../../host/host-tools.ts';
import { DEFAULT_PATH, withDefaultPath } from '../shared/container-paths.ts';
import { procStartTime, sameProcessAlive, signalProcess } from '../shared/proc.ts';
import { ShimContainers } from '../shared/shim-containers.ts';
import { shimEnv } from '../shared/shim-env.ts';
import { readExit, writeEnvFile } from '../shared/shim-files.ts';
import { launchShim, type LaunchedShim } from '../shared/shim-launch.ts';
import { STDIN_FIFO } from '../shared/stdin-fifo.ts';
import { resizeTty, shellQuote } from '../shared/tty.ts';
import { ALL_CAPABILITIES, capabilitiesOfMask } from './oci-defaults.ts';
import { buildOciSpec, cgroupsPathOf } from './oci-spec.ts';
import { resolveExecutableInRootfs } from './rootfs-path.ts';
import { allCgroupRoots, pruneRuncCgroups, removeEmptyCgroupPath } from './runc-cgroups.ts';
import { lastRuncError, runcDelete, runcGlobal, runcKill, runcStart, type Runc } from './runc-cli.ts';
import { runcExec } from './runc-exec.ts';
import type { RuncState } from './state.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What the driver needs from the image service: a stored image's layers (pulling is not its job). */
export interface RuncImageSource {
  get(ref: string): Promise<{ layerDirs: string[] } | undefined>;
}

/** Options of the runc driver. */
export interface RuncDriverOptions {
  /** One directory (= OCI bundle) per container: DATA_DIR/runtime/runc/containers. */
  stateDir: string;
  /** runc's `--root`; default `<dirname(stateDir)>/runc-root` (DATA_DIR/runtime/runc/runc-root). */
  runcRoot?: string;
  /** The runc binary (default `runc`, searched in PATH). */
  runcPath?: string;
  /** Stored images: usually the agent's ImageService. */
  images: RuncImageSource;
  /** Static init bind-mounted as pid 1; default tini-static from the host, `false` runs argv as pid 1. */
  initPath?: string | false;
  cgroupLayout?: CgroupLayout;
  /** How long start() waits for the container's pid 1 (runc is slow on a busy host). */
  startTimeoutMs?: number;
}

/** OCI containers through runc; see the module comment and README.md. */
export class RuncDriver implements RuntimeDriver {
  readonly name = 'runc';
  readonly capabilities: DriverCapabilities;
  readonly runc: Runc;
  private readonly layout: CgroupLayout;
  private readonly tools: HostTools;
  private readonly init: string | undefined;
  private readonly containers: ShimContainers<RuncState>;
  /** Starts in flight: pruning empty cgroup parents then would race runc's mkdir -p. */
  private starting = 0;

  constructor(private readonly opts: RuncDriverOptions) {
    this.layout = opts.cgroupLayout ?? hostCgroupLayout();
    this.tools = hostTools();
    const bin = opts.runcPath ?? findHostTool('runc');
    if (!bin) throw new Error('runc runtime: runc not found (Debian package runc)');
    accessSync(bin, fsConstants.X_OK);
    this.runc = { bin, root: resolve(opts.runcRoot ?? join(dirname(opts.stateDir), 'runc-root')) };
    if (opts.initPath === false) this.init = undefined;
    else {
      this.init = opts.initPath ?? findHostTool('tini-static');
      if (!this.init) throw new Error('runc runtime: tini-static not found (Debian package tini); pass initPath: false to run without an init');
    }
    this.capabilities = { images: true, exec: true, tty: true, oomDetection: true, recover: true, cgroups: this.layout.mode };
    this.containers = new ShimContainers('runc', opts.stateDir, this.layout);
    mkdirSync(this.runc.root, { recursive: true, mode: 0o700 });
  }

  async start(spec: ContainerSpec): Promise<ContainerHandle> {
    const dir = this.containers.dir(spec.id);
    if (existsSync(dir)) throw new Error(`runc runtime: container ${spec.id} already exists`);
    if (!spec.image) throw new Error('runc runtime: the container has no image');
    // stdin: true without a TTY — runc passes its stdin, a FIFO the shim makes, to the container
    // (with a TTY, script's stdin is already that FIFO).
    const shimVars = shimEnv(spec, { runtime: 'runc', dir, stdinFifo: !!spec.stdin && !spec.tty });
    for (const m of spec.mounts) if (!existsSync(m.hostPath)) throw new Error(`runc runtime: mount source ${m.hostPath} does not exist`);
    const image = await this.opts.images.get(spec.image);
    if (!image) throw new Error(`runc runtime: image "${spec.image}" is not in the image store (the pod worker pulls it before start)`);
    const env = withDefaultPath(spec.env);
    const cgroupPath = cgroupsPathOf(spec).slice(1);
    let shim: LaunchedShim | undefined;
    this.starting++;
    try {
      mkdirSync(dir, { mode: 0o700 });
      const rootfs = await mountRootfs(image.layerDirs, dir);
      // The command must exist in the image (or a volume): a typo fails start, not the container.
      resolveExecutableInRootfs(rootfs.path, spec.argv[0] ?? '', env, spec.workingDir, spec.mounts);
      const oci = buildOciSpec(
        { ...spec, env },
        {
          rootfsPath: rootfs.path,
          initHostPath: this.init,
          cgroupVersion: this.layout.mode === 'v2' ? 'v2' : 'v1',
          swapAccounting: this.swapAccounting(),
          hostCapabilities: ownBoundingSet(),
        },
      );
      writeFileSync(join(dir, 'config.json'), JSON.stringify(oci, null, 1));
      // The shim's env file is the env of `runc run` itself; the container's is in config.json.
      // asyncpreemptoff: Go preempts goroutines with SIGURG, and runc 1.1.5 in the foreground
      // forwards every signal it gets to pid 1, so tini would pass SIGURGs to the command (and
      // log "Child was dead when forwarding signal" into the container's stderr at exit).
      writeEnvFile(dir, { PATH: DEFAULT_PATH, GODEBUG: 'asyncpreemptoff=1' });
      mkdirSync(dirname(spec.logPath), { recursive: true });
      const pidFile = join(dir, 'init.pid');
      const runcLog = join(dir, 'runc.log');
      // Without a TTY: `runc create` now, `runc start` once the pod's network is up (startGate), so
      // the container's creation overlaps the CNI ADD, as CRI runtimes do. A TTY container needs
      // runc in the foreground with a terminal of its own (script): `runc run`, after the gate.
      const create = !spec.tty;
      if (!create && spec.startGate) await spec.startGate;
      const run = [this.runc.bin, ...runcGlobal(this.runc, runcLog), create ? 'create' : 'run', ...(create ? [] : ['--keep']), '--pid-file', pidFile, '--bundle', dir, spec.id];
      const cmd = spec.tty ? this.ttyWrapper(dir, run) : run;
      // The shim "joins" pidFile as if it were a cgroup.procs file (runc must not be in the
      // container's cgroup); runc then replaces its content with pid 1's, which the shim reports.
      if (create) shimVars.BERTH_RUNC_CREATE = '1';
      const timeoutMs = this.opts.startTimeoutMs ?? 15_000;
      const deadline = Date.now() + timeoutMs;
      const launched = await launchShim({ args: [dir, spec.logPath, '1', pidFile, ...cmd], env: shimVars, shimLog: join(dir, 'shim.log'), timeoutMs, runtime: 'runc', onExit: this.containers.shimExited });
      shim = launched;
      const [runcPid, reported] = await launched.ready;
      const initPid = reported || (await this.awaitInit(dir, runcPid, pidFile, deadline));
      const initStartTime = procStartTime(initPid) ?? 0;
      if (create) {
        if (spec.startGate) await spec.startGate;
        await runcStart(this.runc, spec.id, runcLog, () => sameProcessAlive(initPid, initStartTime));
      }
      const startedAt = new Date();
      this.containers.write({
        id: spec.id,
        shimPid: launched.pid,
        shimStartTime: procStartTime(launched.pid) ?? 0,
        runcPid,
        initPid,
        initStartTime,
        startedAtMs: startedAt.getTime(),
        cgroupPath,
        logPath: spec.logPath,
        image: spec.image,
        tty: !!spec.tty,
      });
      launched.unref();
      return { id: spec.id, pid: initPid, startedAt };
    } catch (err) {
      shim?.kill('SIGKILL');
      await this.cleanUp(spec.id, dir, cgroupPath);
      throw err;
    } finally {
      this.starting--;
    }
  }

  /**
   * Waits for runc's pid file to name pid 1 when the shim did not report it (its scan is short,
   * runc on a busy host is not, and a container may already be gone). runc writes the file only
   * once the container started, so an exit without it is a failed start: runc's own error.
   */
  private async awaitInit(dir: string, runcPid: number, pidFile: string, deadline: number): Promise<number> {
    for (;;) {
      const exited = !!readExit(dir); // read before the pid file: the pid file is written first
      const pid = Number(readText(pidFile) ?? 0);
      if (pid && pid !== runcPid) return pid;
      if (exited) {
        const why = lastRuncError(join(dir, 'runc.log')) ?? readText(join(dir, 'shim.log')) ?? 'runc exited without starting the container';
        throw new Error(`runc runtime: ${why}`);
      }
      if (Date.now() > deadline) throw new Error('runc runtime: the container did not start in time');
      await sleep(5);
    }
  }

  /**
   * A container TTY: runc in the foreground needs a terminal of its own to copy from, which
   * script provides. script's stdin is a FIFO held open read-write, never at EOF: at EOF (the
   * shim's /dev/null) script would type an end-of-file character into the container's terminal.
   */
  private ttyWrapper(dir: string, run: string[]): string[] {
    const fifo = join(dir, STDIN_FIFO);
    const mk = spawnSync('mkfifo', ['-m', '0600', fifo], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`runc runtime: mkfifo ${fifo}: ${mk.stderr.trim()}`);
    return [this.tools.sh, '-c', 'exec "$@" 0<>"$0"', fifo, this.tools.script, '-qfec', run.map(shellQuote).join(' '), '/dev/null'];
  }

  private swapAccounting(): boolean {
    const mem = this.layout.v1Roots.memory;
    return !!mem && existsSync(join(mem, 'memory.memsw.limit_in_bytes'));
  }

  stdinPath(id: string): string | undefined {
    return this.containers.stdinPath(id);
  }

  resize(id: string, size: { width: number; height: number }): void {
    const st = this.containers.read(id);
    // A TTY container's runc runs under script, on script's terminal: resizing that terminal sends
    // runc a SIGWINCH, and runc resizes the container's console.
    if (st?.tty && !this.containers.exited(id)) resizeTty(this.tools, st.runcPid, size);
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
    // To pid 1 (tini forwards it to the command's process group).
    if (!(await runcKill(this.runc, id, signal)) && sameProcessAlive(st.initPid, st.initStartTime)) signalProcess(st.initPid, signal);
    if (await this.containers.exitedWithin(id, Math.max(0, deadline - Date.now()))) return;
    if (!(await runcKill(this.runc, id, 'SIGKILL', true))) await new Cgroup(this.layout, st.cgroupPath).killAll('SIGKILL').catch(() => {});
    if (!(await this.containers.exitedWithin(id, 5000))) throw new Error(`runc runtime: ${id} did not exit after SIGKILL`);
  }

  async destroy(id: string): Promise<void> {
    const dir = this.containers.dir(id);
    if (!existsSync(dir)) return;
    const st = this.containers.read(id);
    if (st && !this.containers.exited(id)) {
      await runcKill(this.runc, id, 'SIGKILL', true);
      if (!(await this.containers.exitedWithin(id, 5000)) && sameProcessAlive(st.shimPid, st.shimStartTime)) signalProcess(st.shimPid);
    }
    await this.cleanUp(id, dir, st?.cgroupPath ?? this.cgroupPathFromConfig(dir));
    this.containers.forget(id);
  }

  /**
   * runc makes a container's cgroup in every mounted hierarchy (cpuset, devices, freezer, …), not
   * only in the four Berth manages: once the pod's containers are destroyed, its now empty path goes
   * everywhere. (Each destroy prunes too, but not while another start is in flight.)
   */
  async cleanupPod(cgroupParent: string): Promise<void> {
    removeEmptyCgroupPath(allCgroupRoots(), cgroupParent);
  }

  /** Everything start may have created, in reverse: runc state + cgroups, rootfs mount, the dir. */
  private async cleanUp(id: string, dir: string, cgroupPath: string | undefined): Promise<void> {
    await runcDelete(this.runc, id);
    if (cgroupPath) {
      const cg = new Cgroup(this.layout, cgroupPath);
      await cg.killAll('SIGKILL').catch(() => {});
      await cg.remove().catch(() => {});
      if (this.starting === 0) pruneRuncCgroups(this.layout, cgroupPath);
    }
    await unmountRootfs(dir, { remove: true });
    rmSync(dir, { recursive: true, force: true });
  }

  private cgroupPathFromConfig(dir: string): string | undefined {
    const text = readText(join(dir, 'config.json'));
    if (!text) return undefined;
    return ((JSON.parse(text) as { linux?: { cgroupsPath?: string } }).linux?.cgroupsPath ?? '').replace(/^\/+/, '') || undefined;
  }

  async recover(id: string): Promise<ContainerHandle | undefined> {
    return this.containers.recover(id);
  }

  async list(): Promise<string[]> {
    return this.containers.list();
  }

  async exec(id: string, opts: ExecOptions): Promise<number> {
    const st = this.containers.state(id);
    if (this.containers.exited(id) || !sameProcessAlive(st.initPid, st.initStartTime)) throw new Error(`runc runtime: container ${id} is not running`);
    return runcExec(this.runc, this.tools, id, opts);
  }
}

/** The agent's capability bounding set (what a privileged container may get). */
function ownBoundingSet(): string[] {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readText('/proc/self/status') ?? '');
  return m ? capabilitiesOfMask(m[1]!) : [...ALL_CAPABILITIES];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

