/**
 * CPU time of the calling thread (the event loop's), for what a periodic sample costs the agent —
 * cAdvisor times its housekeeping the same way, to stretch it. process.cpuUsage() counts every
 * thread (V8's collectors, the thread pool) and wall time counts whatever else the machine runs, so
 * neither says what one sample cost; /proc/thread-self/schedstat's first field is this thread's time
 * on a CPU in nanoseconds, user and kernel, read through one descriptor kept open (~2 µs a read).
 * Without it (no /proc, no CONFIG_SCHED_INFO) the process's user+system time stands in.
 */
import { openSync, readSync } from 'node:fs';

let fd: number | undefined;
let unavailable = false;
const buf = Buffer.allocUnsafe(128);

/** This thread's CPU time so far, in milliseconds (only differences mean anything). */
export function threadCpuMs(): number {
  if (!unavailable) {
    try {
      fd ??= openSync('/proc/thread-self/schedstat', 'r');
      const n = readSync(fd, buf, 0, buf.length, 0);
      let ns = 0;
      let i = 0;
      for (; i < n; i++) {
        const d = buf[i] - 48;
        if (d < 0 || d > 9) break;
        ns = ns * 10 + d;
      }
      if (i > 0) return ns / 1e6;
    } catch { /* not Linux, or no schedstat */ }
    unavailable = true;
  }
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
