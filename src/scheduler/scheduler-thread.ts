/**
 * The scheduler on a worker thread of the API server's process, so its loop and informers run on
 * the machine's second core instead of the API server's event loop. kube-scheduler is a process of
 * its own that talks to kube-apiserver over HTTP; here the thread talks to this process's Registry
 * through a PortClient, answered on the main thread by the client it is given (the in-process
 * client as `system:kube-scheduler`, so it is authorized as before). Its metrics appear in the
 * server's /metrics as before (mirrored from the thread), its log lines in the server's log.
 *
 * A crash of the thread is logged as an error, counted (`berth_scheduler_thread_restarts_total`)
 * and the thread is started again after a back-off (1 s doubling to 5 min, reset after 10 min up),
 * as the kubelet restarts a crashed kube-scheduler static pod (CrashLoopBackOff). Not /readyz: the
 * API server still serves, and kube-apiserver's readiness does not include the scheduler either —
 * failing it would take a working API out of its clients' rotation for a scheduler problem.
 */
import type { Client } from '../client/client.ts';
import { PortWorker } from '../client/port-worker.ts';
import type { Logger } from '../util/log.ts';
import { schedulerEvents, type SchedulerOptions } from './scheduler.ts';
import { recordingScheduled, ScheduledEvents } from './scheduled-events.ts';
import { mirrorSchedulerMetrics, observeThreadRestart, type MetricsSnapshot } from './scheduler-metrics.ts';

/** The scheduler's options that cross to the thread (plain data: no factory, no clock). */
export type ThreadSchedulerOptions = Omit<SchedulerOptions, 'factory' | 'now'>;

export interface SchedulerThreadOptions {
  scheduler?: ThreadSchedulerOptions;
  /** First restart delay after a crash (default 1 s); doubles up to `maxRestartDelayMs` (5 min). */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

/** A scheduler running on its own thread. */
export interface SchedulerThread {
  stop(): Promise<void>;
  /** Times it was restarted after a crash. */
  readonly restarts: number;
  /** Resolves once the current thread's scheduler runs (after a restart: the new one's). */
  running(): Promise<void>;
  /** For tests: makes the thread throw an uncaught error. */
  crashForTest(): Promise<void>;
}

/**
 * Over the port a write's round trip holds a turn of each thread and a group commit, and replies
 * come back in batches: with in-process's 256 bindings in flight the thread waited on them with
 * the main thread idle half the time (bench sched, quiet machine: 865–1,071 pods/s, main thread
 * 41–48 % busy); 1,024 keep it fed (1,533–2,072 pods/s). Scheduled events are not the thread's:
 * sent from it they waited behind those bindings (512 in flight dropped 36–41 % at 1,359–1,890 pods/s;
 * 4,096 dropped none but bound 815–959 pods/s at the same load), so the API server's thread records
 * them as the bindings succeed (recordingScheduled, scheduled-events.ts; bench/README.md, sched, 2026-12-07).
 */
export const THREAD_DEFAULTS: ThreadSchedulerOptions = { maxInFlightBinds: 1024, recordScheduled: false };

/**
 * `Scheduled` event writes in flight on the API server's thread, where the thread's bindings record
 * them (scheduled-events.ts recordingScheduled): 512, as the thread had (in-process 128 dropped none
 * at 3,000 a second; here up to 1,024 bindings share the store's group commits with them).
 */
const MAIN_THREAD_EVENT_WRITERS = 512;
/**
 * Events waiting there at most (the in-process default is client-go's 1,000): a burst of bindings
 * outruns 512 writes in flight — 10–15 % of 10,000 were dropped with 1,000 waiting — and the rest
 * are written after it, no more of them in flight; 8,192 is ~3 s of 2,500 bindings a second, and a
 * waiting event holds only the pod's name, namespace, uid and node (~0.3 KB: ~2.5 MB when full).
 */
const MAIN_THREAD_EVENT_QUEUE = 8192;

const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './scheduler-worker.ts' : './scheduler-worker.js', import.meta.url);
/** The thread's name in /proc/PID/task/TID/comm (`top -H`), for telling its CPU from the API server's. */
export const THREAD_NAME = 'berth-sched';
/** Up this long, a thread's next crash starts the back-off again from the first delay (the kubelet's 10 min). */
const STABLE_MS = 10 * 60_000;

/** Starts the scheduler thread; resolves once its informers listed and its loop runs. */
export async function startSchedulerThread(client: Client, log: Logger, opts: SchedulerThreadOptions = {}): Promise<SchedulerThread> {
  const firstDelay = opts.restartDelayMs ?? 1000;
  const maxDelay = opts.maxRestartDelayMs ?? 300_000;
  let delay = firstDelay;
  let stopped = false;
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;
  let current: PortWorker | undefined;
  let starting: Promise<void> = Promise.resolve();
  let unmirror: (() => void) | undefined;
  // Scheduled events are recorded on this thread, as the thread's bindings succeed (see MAIN_THREAD_EVENT_WRITERS).
  const events = schedulerEvents(client, log, opts.scheduler?.eventIntervalMs);
  const scheduled = new ScheduledEvents(events, log, {
    maxQueued: opts.scheduler?.maxQueuedEvents ?? MAIN_THREAD_EVENT_QUEUE, writers: opts.scheduler?.scheduledEventWriters ?? MAIN_THREAD_EVENT_WRITERS,
  });
  const served = recordingScheduled(client, scheduled);

  const launch = (): Promise<void> => {
    const startedAt = Date.now();
    const w = new PortWorker({ entry: ENTRY, name: THREAD_NAME, client: served, log, data: { ...THREAD_DEFAULTS, ...opts.scheduler }, onExit: (err) => crashed(w, err, startedAt) });
    current = w;
    return w.ready.then(() => {
      unmirror ??= mirrorSchedulerMetrics(async () => (await current!.call('metrics')) as MetricsSnapshot);
      log.info('scheduler thread started', { threadId: w.threadId });
    });
  };

  const crashed = (w: PortWorker, err: Error, startedAt: number) => {
    if (stopped || w !== current) return;
    if (Date.now() - startedAt > STABLE_MS) delay = firstDelay;
    restarts++;
    observeThreadRestart();
    log.error('scheduler thread crashed; restarting', { error: err.stack ?? err.message, restartInMs: delay, restarts });
    const wait = delay;
    delay = Math.min(delay * 2, maxDelay);
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      starting = launch().catch((e: Error) => crashed(current!, e, Date.now()));
    }, wait);
  };

  await launch();
  return {
    get restarts() { return restarts; },
    running: async () => {
      // A restart may be pending (timer) or starting: wait for the thread that then runs.
      for (;;) {
        const s = starting;
        await s;
        if (!timer && s === starting) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    crashForTest: async () => { await current?.call('crash'); },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      unmirror?.();
      await starting.catch(() => {});
      await current?.stop();
      // The thread's last bindings are answered: their events are queued here.
      await scheduled.close();
      await events.close();
    },
  };
}
