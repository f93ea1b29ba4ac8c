/**
 * One container's cgroup: created below a parent path (`berth/pod-<uid>/<container>`), limited, joined,
 * watched for OOM kills, killed and removed. On v1 it is one directory per controller (cpu, cpuacct,
 * memory, pids); on v2 one directory with the controllers enabled in every ancestor's subtree_control.
 */
import { constants as fsConstants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResourceLimits } from '../driver.ts';
import { CONTROLLERS, type CgroupLayout, type Controller } from './detect.ts';
import { limitFiles } from './limits.ts';

/** Current resource usage of a cgroup, for metrics. */
export interface CgroupUsage {
  cpuUsageNs: number;
  memoryBytes: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every step settled (a clean-up after a failure never races one still running), then the first failure thrown. */
async function allDone(steps: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** A cgroup at `relPath` (relative to each hierarchy root); nothing touches the disk until create(). */
export class Cgroup {
  constructor(
    readonly layout: CgroupLayout,
    readonly relPath: string,
  ) {
    if (relPath.split('/').some((p) => p === '..' || p === '.')) throw new Error(`bad cgroup path ${relPath}`);
    this.relPath = relPath.replace(/^\/+|\/+$/g, '');
  }

  /** The version the files follow (hybrid manages the v1 controllers). */
  get version(): 'v1' | 'v2' {
    return this.layout.mode === 'v2' ? 'v2' : 'v1';
  }

  /** Directory that holds a controller's files. */
  dirFor(c: Controller): string {
    if (this.version === 'v2') return join(this.layout.unifiedRoot!, this.relPath);
    const root = this.layout.v1Roots[c];
    if (!root) throw new Error(`cgroup v1 controller ${c} is not mounted`);
    return join(root, this.relPath);
  }

  /** Every distinct directory of this cgroup (one on v2, one per mounted controller on v1). */
  get dirs(): string[] {
    if (this.version === 'v2') return [this.dirFor('memory')];
    const out = new Set<string>();
    for (const c of CONTROLLERS) if (this.layout.v1Roots[c]) out.add(this.dirFor(c));
    return [...out];
  }

  /** The cgroup.procs files a process must be written to in order to join. */
  get procsFiles(): string[] {
    return this.dirs.map((d) => join(d, 'cgroup.procs'));
  }

  /** True if any of the directories exists. */
  exists(): boolean {
    return this.dirs.some((d) => existsSync(d));
  }

  /**
   * Creates the directories (and missing ancestors) and applies the limits — off the event loop, the
   * hierarchies side by side (a container start in a burst made ~10 of these writes in a row).
   */
  async create(limits: ResourceLimits): Promise<void> {
    if (this.version === 'v2') await enableV2Controllers(this.layout.unifiedRoot!, this.relPath);
    await allDone(this.dirs.map((d) => mkdir(d, { recursive: true })));
    // One controller's files in order (memsw after the memory limit, the period before the quota).
    const byController = new Map<string, { file: string; value: string }[]>();
    for (const w of limitFiles(this.version, limits)) byController.set(w.controller, [...(byController.get(w.controller) ?? []), w]);
    await allDone([...byController].map(async ([controller, writes]) => {
      for (const { file, value } of writes) await this.writeLimit(controller as Controller, file, value);
    }));
  }

  /** A file name ending in `?` is optional: absent (or refused), it is skipped. */
  private async writeLimit(controller: Controller, file: string, value: string): Promise<void> {
    const optional = file.endsWith('?');
    const path = join(this.dirFor(controller), optional ? file.slice(0, -1) : file);
    try {
      // An optional file is opened without O_CREAT: one the kernel does not offer is never made.
      await writeFile(path, value, { flag: optional ? fsConstants.O_WRONLY : 'w' });
    } catch (err) {
      if (!optional) throw new Error(`cgroup: cannot write ${value} to ${path}: ${(err as Error).message}`);
    }
  }

  /** Moves a process into the cgroup (all hierarchies). */
  addPid(pid: number): void {
    for (const f of this.procsFiles) writeFileSync(f, String(pid));
  }

  /** Pids currently in the cgroup (union over the hierarchies). */
  pids(): number[] {
    const out = new Set<number>();
    for (const f of this.procsFiles) {
      for (const l of readOr(f, '').split('\n')) if (l.trim()) out.add(Number(l));
    }
    return [...out];
  }

  /** How many processes the kernel OOM-killed in this cgroup (0 if unknown). */
  oomKills(): number {
    const dir = this.dirFor('memory');
    if (this.version === 'v2') return keyed(readOr(join(dir, 'memory.events'), ''), 'oom_kill');
    // v1: `oom_kill N` exists since Linux 4.13; older kernels only say under_oom.
    const ctl = readOr(join(dir, 'memory.oom_control'), '');
    return keyed(ctl, 'oom_kill') || keyed(ctl, 'under_oom');
  }

  /** CPU time and memory in use now. */
  usage(): CgroupUsage {
    if (this.version === 'v2') {
      const dir = this.dirFor('cpu');
      return {
        cpuUsageNs: keyed(readOr(join(dir, 'cpu.stat'), ''), 'usage_usec') * 1000,
        memoryBytes: Number(readOr(join(dir, 'memory.current'), '0')) || 0,
      };
    }
    return {
      cpuUsageNs: Number(readOr(join(this.dirFor('cpuacct'), 'cpuacct.usage'), '0')) || 0,
      memoryBytes: Number(readOr(join(this.dirFor('memory'), 'memory.usage_in_bytes'), '0')) || 0,
    };
  }

  /** Signals every process in the cgroup until it is empty (re-reading to catch forks) or the timeout. */
  async killAll(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 5000): Promise<void> {
    const killFile = join(this.dirs[0], 'cgroup.kill');
    if (this.version === 'v2' && signal === 'SIGKILL' && existsSync(killFile)) writeFileSync(killFile, '1');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pids = this.pids();
      if (pids.length === 0) return;
      for (const p of pids) {
        try {
          process.kill(p, signal);
        } catch {
          /* already gone */
        }
      }
      if (signal !== 'SIGKILL') return;
      if (Date.now() > deadline) throw new Error(`cgroup ${this.relPath}: processes survive SIGKILL: ${pids.join(' ')}`);
      await sleep(5);
    }
  }

  /** Removes the directories, retrying while the kernel still counts exiting tasks. Safe to repeat. */
  async remove(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const d of this.dirs) {
      for (;;) {
        try {
          await rmdir(d);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || Date.now() >= deadline) throw new Error(`cgroup: cannot remove ${d}: ${code}`);
          await sleep(10);
        }
      }
    }
  }
}

/**
 * Removes an empty cgroup subtree (e.g. a pod's parent) in every hierarchy, deepest first. Only the
 * leaf waits for exiting tasks; an ancestor gets one try, since cgroupfs answers EBUSY for a directory
 * that still has children — a shared ancestor (`berth`) in use by other pods stays busy, and waiting
 * out the leaf's 2 s on it made every pod deletion 2 s longer.
 */
export async function removeCgroupTree(layout: CgroupLayout, relPath: string): Promise<void> {
  const parts = relPath.replace(/^\/+|\/+$/g, '').split('/');
  for (let i = parts.length; i > 0; i--) {
    await new Cgroup(layout, parts.slice(0, i).join('/')).remove(i === parts.length ? 2000 : 0).catch((err: Error) => {
      // A shared ancestor (e.g. `berth`) still in use by other pods is not an error.
      if (!/ENOTEMPTY|EBUSY/.test(err.message)) throw err;
    });
  }
}

/** v2: each ancestor must delegate cpu/memory/pids to its children before the leaf can use them. */
async function enableV2Controllers(root: string, relPath: string): Promise<void> {
  const available = (await readOrAsync(join(root, 'cgroup.controllers'))).split(/\s+/);
  const wanted = ['cpu', 'memory', 'pids'].filter((c) => available.includes(c));
  let dir = root;
  for (const part of relPath.split('/')) {
    const enabled = (await readOrAsync(join(dir, 'cgroup.subtree_control'))).split(/\s+/);
    const missing = wanted.filter((c) => !enabled.includes(c));
    if (missing.length) await writeFile(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    dir = join(dir, part);
    await mkdir(dir, { recursive: true });
  }
}

async function readOrAsync(path: string): Promise<string> {
  return readFile(path, 'utf8').then((t) => t.trim(), () => '');
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/** Reads `key N` out of a flat-keyed cgroup file. */
function keyed(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
