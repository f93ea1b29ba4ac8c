/**
 * The containers of one shim-based driver, as their state dirs on disk (`<stateDir>/<id>/`, mode
 * 0700) hold them: the id → dir mapping, the driver's state record, the containers it lists, their
 * exits (one ExitWatcher per driver), re-adoption after an agent restart, and the shim's stdin hold.
 * What both the `process` and the `runc` driver do the same way lives here; what they do differently
 * (how a container is started, stopped, entered) stays in their folders.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CgroupLayout } from '../cgroups/index.ts';
import type { ContainerHandle, ExitResult } from '../driver.ts';
import { exitResultOf, settlesWithin } from './exit-result.ts';
import { ExitWatcher } from './exit-watcher.ts';
import { sameProcessAlive } from './proc.ts';
import { readExit, readStateFile, writeStateFile, type ShimState } from './shim-files.ts';
import { stdinFifoOf } from './stdin-fifo.ts';

export class ShimContainers<S extends ShimState> {
  private readonly waits = new Map<string, Promise<ExitResult>>();
  private readonly exits = new ExitWatcher();
  readonly stateDir: string;

  /** `runtime` names the driver in errors. */
  constructor(private readonly runtime: string, stateDir: string, private readonly layout: CgroupLayout) {
    this.stateDir = resolve(stateDir);
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
  }

  /** The state dir of container `id` (which must be a plain name: it becomes a path). */
  dir(id: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new Error(`${this.runtime} runtime: invalid container id ${JSON.stringify(id)}`);
    return join(this.stateDir, id);
  }

  /** The driver's record of `id`, undefined when there is none. */
  read(id: string): S | undefined {
    return readStateFile<S>(this.dir(id));
  }

  /** The driver's record of `id`; throws when the container is unknown. */
  state(id: string): S {
    const st = this.read(id);
    if (!st) throw new Error(`${this.runtime} runtime: no such container ${id}`);
    return st;
  }

  write(st: S): void {
    writeStateFile(this.dir(st.id), st);
  }

  /** The shim wrote the container's exit record. */
  exited(id: string): boolean {
    return !!readExit(this.dir(id));
  }

  /** Containers with a record (running, or exited and not yet destroyed). */
  list(): string[] {
    return readdirSync(this.stateDir).filter((d) => existsSync(join(this.stateDir, d, 'state.json')));
  }

  /** Resolves when the container exits (once per id; also for re-adopted containers). */
  wait(id: string): Promise<ExitResult> {
    let p = this.waits.get(id);
    if (!p) {
      const st = this.state(id);
      p = this.exits.watch(this.dir(id), st).then((rec) => exitResultOf(rec, this.layout, st.cgroupPath));
      this.waits.set(id, p);
    }
    return p;
  }

  /** wait() bounded by a timeout; true if the container exited in time. */
  exitedWithin(id: string, ms: number): Promise<boolean> {
    return settlesWithin(this.wait(id), ms);
  }

  /** The container is destroyed: a later wait() for the id starts afresh. */
  forget(id: string): void {
    this.waits.delete(id);
  }

  /** The spawn helper saw shim `pid` exit (pass as the shim launch's onExit). */
  readonly shimExited = (pid: number): void => this.exits.shimExited(pid);

  /**
   * Re-adopts a container an earlier agent started: a handle if its shim is alive with the recorded
   * start time (no pid reuse), or if it exited while the agent was away (wait() then says how).
   */
  recover(id: string, pidOf: (st: S) => number = (st) => st.initPid): ContainerHandle | undefined {
    const st = this.read(id);
    if (!st) return undefined;
    if (!sameProcessAlive(st.shimPid, st.shimStartTime) && !this.exited(id)) return undefined;
    return { id, pid: pidOf(st), startedAt: new Date(st.startedAtMs) };
  }

  /** The container's stdin FIFO (`spec.stdin`), undefined when it has none. */
  stdinPath(id: string): string | undefined {
    return stdinFifoOf(this.dir(id));
  }

  /** stdinOnce: SIGUSR1 makes the shim close its write end of the stdin FIFO (only shims started with it handle it). */
  releaseStdin(id: string): void {
    const st = this.state(id);
    if (sameProcessAlive(st.shimPid, st.shimStartTime)) process.kill(st.shimPid, 'SIGUSR1');
  }
}
