/**
 * Gives memory back while the process idles, as Chrome's memory reducer does for an idle tab: when
 * the event loop has been nearly idle for a check interval and V8's young generation is still at the
 * size a busy spell grew it to, one memory-reducing collection (the one an inspector's "collect
 * garbage" runs: V8 shrinks the young generation and releases free pages) — through an in-process
 * inspector session, which opens no port.
 *
 * Why: start-up (module graph, certificates, the first lists) grows V8's young generation to its
 * maximum (2 × 16 MB semi-spaces by default; bin/berth allows 64 MB for throughput), and V8 shrinks
 * it only after a memory-reducing collection, which nothing triggers in an idle process: an idle
 * `berth server` kept ~32 MB of empty young generation (RSS 146 → 110 MB after one such collection,
 * 2026-12-07). The collection is a full one, so it runs only while the heap is small (its pause grows
 * with what is live: ~20 ms at 30 MB) and only once per busy spell.
 */
import { Session } from 'node:inspector';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';

export interface IdleMemoryOptions {
  /** How often to look (ms). Default 5,000; the first look is after `firstCheckMs` (default 2,000). */
  checkMs?: number;
  firstCheckMs?: number;
  /** The loop counts as idle below this utilisation over the last interval. Default 0.05. */
  idleUtilization?: number;
  /** Collect only while the heap in use is below this (bytes): the pause grows with it. Default 256 MiB. */
  maxHeapUsed?: number;
  /** …and the young generation is at least this big (bytes), i.e. has something to give back. Default 8 MiB. */
  minNewSpace?: number;
}

export interface IdleMemoryReducer {
  /** Collections run so far. */
  readonly reductions: number;
  stop(): void;
}

const newSpaceSize = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/** Starts the reducer for this thread's heap; its timer never keeps the process alive. */
export function startIdleMemoryReducer(opts: IdleMemoryOptions = {}): IdleMemoryReducer {
  // BERTH_IDLE_MEMORY=off: never (for measurements).
  if (process.env.BERTH_IDLE_MEMORY === 'off') return { reductions: 0, stop() {} };
  const idle = opts.idleUtilization ?? 0.05;
  const maxHeapUsed = opts.maxHeapUsed ?? 256 * 1024 * 1024;
  const minNewSpace = opts.minNewSpace ?? 8 * 1024 * 1024;
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let running = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const state = { reductions: 0 };

  const check = async () => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (running || busy >= idle || newSpaceSize() < minNewSpace || v8.getHeapStatistics().used_heap_size >= maxHeapUsed) return;
    running = true;
    const session = new Session();
    try {
      session.connect();
      await new Promise<void>((resolve, reject) => session.post('HeapProfiler.collectGarbage', (err) => (err ? reject(err) : resolve())));
      state.reductions++;
    } catch {
      // An inspector that cannot be reached here (e.g. a debugger holds it) only means no reduction.
    } finally {
      session.disconnect();
      // The collection's own work is not the next interval's business.
      last = performance.eventLoopUtilization();
      running = false;
    }
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => { void check().finally(() => schedule(opts.checkMs ?? 5_000)); }, ms);
    timer.unref();
  };
  schedule(opts.firstCheckMs ?? 2_000);
  return {
    get reductions() { return state.reductions; },
    stop() { stopped = true; if (timer) clearTimeout(timer); },
  };
}
