/**
 * A component in a worker thread of this process, talking to the API through a PortClient: the
 * main thread starts the worker (`PortWorker`), serves its port from a Client acting as the
 * component's user, forwards its log lines to the main logger, and answers control calls; the
 * worker's module calls `runPortWorker` with what to start. No upstream equivalent: kube-scheduler
 * and kube-controller-manager are processes of their own; Berth keeps one process and gives such a
 * component its own core by giving it its own thread.
 *
 *   main thread                                      worker thread
 *   PortWorker ── MessageChannel (API) ─────────────▶ PortClient ─▶ component (informers, loop)
 *     servePort(client as the component's user)  ◀── requests / ◀── watch events as JSON
 *     ◀── parentPort: ready, log lines, call replies, stopped
 *     ──▶ parentPort: stop, call(name)
 *
 * A crash (an uncaught error, an exit the main thread did not ask for) is reported through
 * `onExit` with the error; what to do then (restart) is the owner's choice.
 */
import { writeFileSync } from 'node:fs';
import { Worker, MessageChannel, isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Client } from './client.ts';
import { PortClient } from './port-client.ts';
import { servePort, type PortServer } from './port-server.ts';
import type { Level, Logger } from '../util/log.ts';
import { startIdleMemoryReducer, type IdleMemoryReducer } from '../util/idle-memory.ts';

type Control =
  | { ready: true }
  | { failed: string }
  | { log: [Level, string, Record<string, unknown> | undefined] }
  | { reply: number; value?: unknown; error?: string }
  | { stopped: true };

type Command = { stop: true } | { call: number; name: string };

/** What a worker module starts: something to stop, and named calls the main thread may make. */
export interface PortWorkerComponent {
  stop(): Promise<void>;
  calls?: Record<string, () => unknown>;
}

export interface PortWorkerOptions {
  /** The worker module (.ts under the TypeScript loader, .js when compiled): it calls runPortWorker. */
  entry: URL;
  /** The Client the worker's requests are answered from (the component's identity). */
  client: Client;
  /** Where the worker's log lines go. */
  log: Logger;
  /** Structured-clone data for the worker (its options). */
  data?: unknown;
  /**
   * The thread's name (at most 15 characters): what `top -H`, `ps -L` and /proc/PID/task/TID/comm
   * show for it (Linux), so its CPU can be told from the event loop's.
   */
  name?: string;
  /** The worker ended without being asked to (crash, or a failed start after ready). */
  onExit?(err: Error): void;
  /** How long stop() waits for the component to stop before terminating the thread (default 15 s). */
  stopTimeoutMs?: number;
}

/** The TypeScript loader's API, for a .ts entry: workers do not inherit the main thread's loader hooks. */
const TSX_API = 'tsx/esm/api';

function spawn(entry: URL, workerData: unknown, transferList: MessagePort[], name?: string): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData, transferList, name });
  const api = import.meta.resolve(TSX_API);
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`
    + '.catch((err) => { process.nextTick(() => { throw err; }); });';
  return new Worker(code, { eval: true, workerData, transferList, name });
}

/** The main thread's handle on one worker. */
export class PortWorker {
  private readonly worker: Worker;
  private readonly server: PortServer;
  private readonly calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextCall = 1;
  private stopping = false;
  private exited: Promise<void>;
  /** Resolves once the component started; rejects if it failed to or the worker died first. */
  readonly ready: Promise<void>;

  constructor(private readonly opts: PortWorkerOptions) {
    const { port1, port2 } = new MessageChannel();
    this.server = servePort(port1, opts.client);
    this.worker = spawn(opts.entry, { data: opts.data, port: port2, name: opts.name }, [port2], opts.name);
    let readyOk!: () => void;
    let readyFail!: (e: Error) => void;
    let started = false;
    this.ready = new Promise<void>((res, rej) => { readyOk = res; readyFail = rej; });
    // An unobserved failure is reported through onExit; the promise itself must not crash the process.
    this.ready.catch(() => {});
    let lastError: Error | undefined;
    this.worker.on('message', (m: Control) => {
      if ('log' in m) {
        const [level, msg, fields] = m.log;
        opts.log[level](msg, fields);
      } else if ('ready' in m) {
        started = true;
        readyOk();
      } else if ('failed' in m) {
        lastError = new Error(m.failed);
      } else if ('reply' in m) {
        const c = this.calls.get(m.reply);
        this.calls.delete(m.reply);
        if (m.error !== undefined) c?.reject(new Error(m.error));
        else c?.resolve(m.value);
      }
    });
    this.worker.on('error', (err) => { lastError = err; });
    this.exited = new Promise<void>((resolve) => {
      this.worker.once('exit', (code) => {
        this.server.close();
        const err = lastError ?? new Error(`worker exited with code ${code}`);
        for (const c of this.calls.values()) c.reject(err);
        this.calls.clear();
        if (!started) readyFail(err);
        else if (!this.stopping) opts.onExit?.(err);
        resolve();
      });
    });
  }

  /** The worker thread's id (for diagnostics). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** Calls one of the component's named calls (e.g. its metrics) and resolves with its result. */
  call(name: string): Promise<unknown> {
    if (this.stopping) return Promise.reject(new Error('worker stopping'));
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ call: id, name } satisfies Command);
    });
  }

  /**
   * Asks the component to stop (its writes in flight finish: the port is served until the worker
   * exits), then ends the thread; terminates it after `stopTimeoutMs`.
   */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.worker.postMessage({ stop: true } satisfies Command);
      const timer = setTimeout(() => {
        this.opts.log.warn('worker did not stop in time; terminating it', { threadId: this.worker.threadId });
        void this.worker.terminate();
      }, this.opts.stopTimeoutMs ?? 15_000);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }
}

/** A Logger in the worker whose lines the main thread writes (its logger, its format, its level). */
function portLogger(post: (m: Control) => void, base: Record<string, unknown> = {}): Logger {
  const emit = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    let all = Object.keys(base).length ? { ...base, ...fields } : fields;
    try {
      post({ log: [level, msg, all] });
    } catch {
      // Fields that cannot be cloned (a function, a socket): their text instead.
      all = Object.fromEntries(Object.entries(all ?? {}).map(([k, v]) => [k, String(v)]));
      post({ log: [level, msg, all] });
    }
  };
  return {
    debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'),
    child: (f) => portLogger(post, { ...base, ...f }),
  };
}

/**
 * The worker's side: builds the PortClient and a logger, starts the component, answers the main
 * thread's calls, and on `stop` stops it, closes the client and lets the thread end. A start that
 * throws ends the worker with that error.
 */
export function runPortWorker<D>(start: (ctx: { client: PortClient; log: Logger; data: D }) => Promise<PortWorkerComponent>): void {
  if (isMainThread || !parentPort) throw new Error('runPortWorker runs in a worker thread');
  const control = parentPort;
  const post = (m: Control) => control.postMessage(m);
  const { data, port, name } = workerData as { data: D; port: MessagePort; name?: string };
  if (name) {
    // /proc/thread-self is the calling thread's: this worker's, not the process's main thread.
    try { writeFileSync('/proc/thread-self/comm', name.slice(0, 15)); } catch { /* not Linux, or no /proc */ }
  }
  const client = new PortClient(port);
  const log = portLogger(post);
  let component: PortWorkerComponent | undefined;
  let stopRequested = false;
  // Once the ports are closed nothing more can reach the thread: a timer some part left behind
  // must not keep it alive (the main thread would wait for its stop timeout).
  const end = (code: number) => {
    client.close();
    port.close();
    control.unref();
    setTimeout(() => process.exit(code), 1000).unref();
  };
  let reducer: IdleMemoryReducer | undefined;
  const stop = async () => {
    reducer?.stop();
    try {
      await component?.stop();
    } finally {
      end(0);
    }
  };
  control.on('message', (m: Command) => {
    if ('stop' in m) {
      stopRequested = true;
      if (component) void stop();
      return;
    }
    const fn = component?.calls?.[m.name];
    if (!fn) { post({ reply: m.call, error: `no call ${m.name}` }); return; }
    Promise.resolve().then(fn).then(
      (value) => post({ reply: m.call, value }),
      (err) => post({ reply: m.call, error: String(err) }),
    );
  });
  start({ client, log, data }).then((c) => {
    component = c;
    post({ ready: true });
    if (stopRequested) void stop();
    // The thread's own heap: its start (module graph, first lists) grows its young generation too.
    else reducer = startIdleMemoryReducer();
  }, (err) => {
    post({ failed: err instanceof Error ? err.stack ?? err.message : String(err) });
    end(1);
  });
}
