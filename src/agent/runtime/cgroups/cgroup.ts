/**
 * One container's cgroup: created below a parent path (`berth/pod-<uid>/<container>`), limited, joined,
 * watched for OOM kills, killed and removed. On v1 it is one directory per controller (cpu, cpuacct,
 * memory, pids); on v2 one directory with the controllers enabled in every ancestor's subtree_control.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
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

  /** Creates the directories (and missing ancestors) and applies the limits. */
  create(limits: ResourceLimits): void {
    if (this.version === 'v2') enableV2Controllers(this.layout.unifiedRoot!, this.relPath);
    for (const d of this.dirs) mkdirSync(d, { recursive: true });
    this.applyLimits(limits);
  }

  /** Writes the limit files; a file name ending in `?` is optional (skipped when absent). */
  applyLimits(limits: ResourceLimits): void {
    for (const { controller, file, value } of limitFiles(this.version, limits)) {
      const optional = file.endsWith('?');
      const path = join(this.dirFor(controller as Controller), optional ? file.slice(0, -1) : file);
      if (optional && !existsSync(path)) continue;
      try {
        writeFileSync(path, value);
      } catch (err) {
        if (!optional) throw new Error(`cgroup: cannot write ${value} to ${path}: ${(err as Error).message}`);
      }
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
          rmdirSync(d);
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
function enableV2Controllers(root: string, relPath: string): void {
  const available = readOr(join(root, 'cgroup.controllers'), '').split(/\s+/);
  const wanted = ['cpu', 'memory', 'pids'].filter((c) => available.includes(c));
  let dir = root;
  for (const part of relPath.split('/')) {
    const enabled = readOr(join(dir, 'cgroup.subtree_control'), '').split(/\s+/);
    const missing = wanted.filter((c) => !enabled.includes(c));
    if (missing.length) writeFileSync(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    dir = join(dir, part);
    mkdirSync(dir, { recursive: true });
  }
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
