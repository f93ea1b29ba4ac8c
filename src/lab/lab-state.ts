/**
 * The lab's state file, `D/lab.json`: the plan plus what was started (process ids with their start
 * times, so a recycled pid is never killed) and each host's condition. `up` writes it before it
 * makes anything, so `down` can clean up after a lab that crashed half-way (kind keeps the same
 * record in its containers' labels). Written atomically (temp file + rename).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, LabPlan, NodePlan } from './lab-plan.ts';

export const STATE_FILE = 'lab.json';
export const STATE_VERSION = 1;

/** A process the lab started: its pid and the kernel's start time of it (/proc/<pid>/stat field 22). */
export interface ProcessRecord {
  pid: number;
  startTicks: number;
  log: string;
  /** Holds the pid for tools that read pid files (D/server.pid, D/node-<i>/agent.pid); removed when the lab stops it. */
  pidFile?: string;
}

/** `running`, or what the last failure command did to the host. */
export type HostCondition = 'running' | 'killed' | 'partitioned';

export interface NodeState extends NodePlan {
  agent?: ProcessRecord;
  condition: HostCondition;
}

export interface LabState extends Omit<LabPlan, 'nodes'> {
  version: number;
  backend?: Backend;
  dnsUpstream?: string;
  storage?: boolean;
  kubeconfig: string;
  server?: ProcessRecord;
  nodes: NodeState[];
  createdAt: string;
}

export function statePath(dataDir: string): string {
  return join(dataDir, STATE_FILE);
}

/** The lab's state, or undefined when no lab is recorded in `dataDir`. */
export function readState(dataDir: string): LabState | undefined {
  const file = statePath(dataDir);
  if (!existsSync(file)) return undefined;
  let state: LabState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
  } catch (err) {
    throw new Error(`${file} is not a lab state file: ${(err as Error).message}`);
  }
  if (state.version !== STATE_VERSION) throw new Error(`${file} has version ${state.version}; this berth reads version ${STATE_VERSION}`);
  return state;
}

export function writeState(state: LabState): void {
  const file = statePath(state.dataDir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function removeState(dataDir: string): void {
  rmSync(statePath(dataDir), { force: true });
}

const LOCK_FILE = 'lab.lock';

function lockHolderAlive(file: string): boolean {
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/**
 * Runs `fn` holding the lab's lock (`D/lab.lock`, holding the pid): two lab commands on one lab —
 * a kill and a partition from one test — take turns instead of both rewriting lab.json. A lock whose
 * holder died is taken over.
 */
export async function withLabLock<T>(dataDir: string, fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, LOCK_FILE);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let stale = false;
      try { stale = !lockHolderAlive(file); } catch { /* removed meanwhile: try again */ }
      if (stale) { rmSync(file, { force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`another berth lab command holds ${file}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}
