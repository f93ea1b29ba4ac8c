/**
 * The lab's processes: the server and one agent per host, started detached (their own session,
 * output to a log file) so they outlive `berth lab up`, and recorded by pid *and* kernel start time
 * so a later command never signals a recycled pid. An agent starts inside its host's network
 * namespace (nsenter --net, not `ip netns exec`, which remounts /sys and hides the cgroups) and in
 * its host's cgroup, so everything it starts can be found again (as kind's node containers keep
 * what they run in their own cgroup).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ProcessRecord } from './lab-state.ts';
import { cgroupProcsFiles } from './lab-cgroups.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); undefined when there is no such process. */
export function processStartTicks(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[22 - 3]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/** True while the recorded process runs (the same pid with the same start time, not a zombie). */
export function isAlive(rec: ProcessRecord | undefined): boolean {
  if (!rec) return false;
  if (processStartTicks(rec.pid) !== rec.startTicks) return false;
  try {
    const state = readFileSync(`/proc/${rec.pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export interface StartOptions {
  /** Run inside this network namespace (a path under /run/netns). */
  netnsPath?: string;
  /** Join this cgroup (relative to every hierarchy's root) before anything runs. */
  cgroup?: string;
  log: string;
  pidFile?: string;
  cwd?: string;
}

/**
 * Starts `argv` detached with stdout and stderr appended to `o.log`; resolves with its record once
 * it runs. A shell moves itself into the cgroup first and then execs (nsenter, then) the program, so
 * no child of it is ever outside the cgroup; the pid stays the same through the execs.
 */
export async function startDetached(argv: string[], o: StartOptions): Promise<ProcessRecord> {
  mkdirSync(dirname(o.log), { recursive: true });
  const procs = o.cgroup ? cgroupProcsFiles(o.cgroup, { create: true }) : [];
  const inner = o.netnsPath ? ['nsenter', `--net=${o.netnsPath}`, ...argv] : argv;
  const script = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" 2>/dev/null; shift; n=$((n-1)); done; exec "$@"';
  const fd = openSync(o.log, 'a');
  try {
    const child = spawn('/bin/sh', ['-c', script, 'sh', String(procs.length), ...procs, ...inner], {
      detached: true, stdio: ['ignore', fd, fd], cwd: o.cwd, env: { ...process.env, BERTH_LOG_FORMAT: 'json' },
    });
    const pid = child.pid;
    if (!pid) throw new Error(`cannot start ${argv[0]}`);
    child.unref();
    const startTicks = processStartTicks(pid);
    if (startTicks === undefined) throw new Error(`${argv.join(' ')} exited at once (see ${o.log})`);
    if (o.pidFile) writeFileSync(o.pidFile, `${pid}\n`);
    return { pid, startTicks, log: o.log, pidFile: o.pidFile };
  } finally {
    closeSync(fd);
  }
}

/** Sends `signal` to the recorded process if it still runs; true when it was sent. */
export function signal(rec: ProcessRecord | undefined, sig: NodeJS.Signals): boolean {
  if (!rec || !isAlive(rec)) return false;
  try {
    process.kill(rec.pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the process is gone; false after `timeoutMs`. */
export async function waitGone(rec: ProcessRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(rec)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Removes the process's pid file (it was stopped, or found dead). */
export function forgetPidFile(rec: ProcessRecord | undefined): void {
  if (rec?.pidFile) rmSync(rec.pidFile, { force: true });
}

/** SIGTERM, then SIGKILL after `graceMs`; true when there was a process to stop. */
export async function stopProcess(rec: ProcessRecord | undefined, graceMs: number): Promise<boolean> {
  forgetPidFile(rec);
  if (!signal(rec, 'SIGTERM')) return false;
  if (!(await waitGone(rec!, graceMs))) {
    signal(rec, 'SIGKILL');
    await waitGone(rec!, 5_000);
  }
  return true;
}

/** The last `lines` lines of a log file (for error messages). */
export function logTail(file: string, lines = 20): string {
  if (!existsSync(file)) return `(no ${file})`;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
