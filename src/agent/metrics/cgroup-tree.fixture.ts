/**
 * Test-only: cgroup trees and a /proc in a temporary directory, laid out as v1 (one root per
 * controller), v2 (one unified root) or hybrid, so the readers are tested on every version without
 * the machine's own cgroups.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CgroupLayout } from '../runtime/cgroups/index.ts';

export interface CgroupFigures {
  cpuNs: number;
  usage: number;
  inactiveFile: number;
  rss?: number;
  pids?: number[];
}

export class CgroupTree {
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-cgroup-fixture-'));
  readonly layout: CgroupLayout;

  constructor(readonly mode: 'v1' | 'v2' | 'hybrid') {
    if (mode === 'v2') this.layout = { mode, unifiedRoot: join(this.dir, 'unified'), v1Roots: {} };
    else {
      this.layout = {
        mode, unifiedRoot: mode === 'hybrid' ? join(this.dir, 'unified') : undefined,
        v1Roots: { cpu: join(this.dir, 'cpu'), cpuacct: join(this.dir, 'cpuacct'), memory: join(this.dir, 'memory'), pids: join(this.dir, 'pids') },
      };
    }
  }

  /** Writes (or rewrites) a cgroup's files with the given figures. */
  set(relPath: string, f: CgroupFigures): void {
    const procs = (f.pids ?? []).join('\n');
    if (this.mode === 'v2') {
      const d = join(this.layout.unifiedRoot!, relPath);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'cpu.stat'), `usage_usec ${Math.round(f.cpuNs / 1000)}\nuser_usec 0\nsystem_usec 0\n`);
      writeFileSync(join(d, 'memory.current'), `${f.usage}\n`);
      writeFileSync(join(d, 'memory.stat'), `anon ${f.rss ?? 0}\nfile 0\ninactive_file ${f.inactiveFile}\npgfault 7\npgmajfault 1\n`);
      writeFileSync(join(d, 'cgroup.procs'), procs);
      return;
    }
    const r = this.layout.v1Roots;
    for (const root of [r.cpuacct!, r.memory!, r.pids!]) mkdirSync(join(root, relPath), { recursive: true });
    writeFileSync(join(r.cpuacct!, relPath, 'cpuacct.usage'), `${f.cpuNs}\n`);
    writeFileSync(join(r.memory!, relPath, 'memory.usage_in_bytes'), `${f.usage}\n`);
    writeFileSync(join(r.memory!, relPath, 'memory.stat'), `cache 0\nrss 1\ninactive_file 2\ntotal_rss ${f.rss ?? 0}\ntotal_inactive_file ${f.inactiveFile}\ntotal_pgfault 7\ntotal_pgmajfault 1\n`);
    writeFileSync(join(r.memory!, relPath, 'cgroup.procs'), procs);
  }

  /** A fake /proc: stat, meminfo, and net/dev of the agent (self) and of given pids. */
  proc(opts: { cpuJiffies: number[]; memTotalKb: number; memAvailableKb: number; netdev: Record<string, string> }): string {
    const p = join(this.dir, 'proc');
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'stat'), `cpu  ${opts.cpuJiffies.join(' ')}\ncpu0 0 0 0 0\n`);
    writeFileSync(join(p, 'meminfo'), `MemTotal:       ${opts.memTotalKb} kB\nMemFree:        ${opts.memAvailableKb / 2} kB\nMemAvailable:   ${opts.memAvailableKb} kB\n`);
    for (const [pid, text] of Object.entries(opts.netdev)) {
      mkdirSync(join(p, pid, 'net'), { recursive: true });
      writeFileSync(join(p, pid, 'net', 'dev'), text);
    }
    return p;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A /proc/net/dev text with the given interfaces (rx bytes, tx bytes). */
export function netDevText(ifaces: Record<string, [number, number]>): string {
  const head = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  return head + Object.entries(ifaces).map(([n, [rx, tx]]) => `${n.padStart(6)}: ${rx} 10 0 0 0 0 0 0 ${tx} 20 0 0 0 0 0 0`).join('\n') + '\n';
}
