/**
 * Turning a shim's exit record into the driver's ExitResult, and a bounded wait — for every driver
 * whose containers run under the shim (native/shim) and tini.
 */
import { constants } from 'node:os';
import { Cgroup, type CgroupLayout } from '../cgroups/index.ts';
import type { ExitResult } from '../driver.ts';
import type { ExitRecord } from './shim-files.ts';

/**
 * tini (and runc) exit 128+n when the command died by signal n; the shim reports a signal only when
 * the chain itself was killed. The container's cgroup still holds its OOM count after the exit.
 */
export function exitResultOf(rec: ExitRecord, layout: CgroupLayout, cgroupPath: string): ExitResult {
  const sigNo = rec.signal || (rec.exitCode > 128 && rec.exitCode < 128 + 65 ? rec.exitCode - 128 : 0);
  const signal = sigNo ? Object.entries(constants.signals).find(([, n]) => n === sigNo)?.[0] : undefined;
  const oomKilled = new Cgroup(layout, cgroupPath).oomKills() > 0;
  return { exitCode: rec.exitCode, signal, oomKilled, finishedAt: new Date(rec.finishedAtMs) };
}

/** True when `done` settles within `ms`. */
export async function settlesWithin(done: Promise<unknown>, ms: number): Promise<boolean> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (t = setTimeout(() => r(false), ms)));
  const ok = await Promise.race([done.then(() => true), timeout]);
  clearTimeout(t);
  return ok;
}
