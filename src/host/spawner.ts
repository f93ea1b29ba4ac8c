/**
 * The agent's spawn helper (native/spawner): one small long-lived process that starts the
 * agent's short commands (ip, CNI plugins, nft) and the container shims with posix_spawn, makes
 * the system calls Node has none for (mount, overlayfs whiteouts, network namespaces), and connects
 * to ports inside pod network namespaces, handing the sockets over on Node's IPC channel.
 *
 * Why: Node forks synchronously — libuv's spawn() copies the page tables of the whole (large) Node
 * process and blocks the event loop until the child has exec'd, ~5-20 ms per command on a small VM,
 * and a pod takes several commands. Through the helper a command or a shim costs the agent one line
 * on a pipe, and the helper's vfork-style spawn copies no pages.
 *
 * Falls back to Node's own spawn when the helper cannot run (it cannot be built) or BERTH_SPAWNER=0;
 * what has no program to fall back on (whiteouts, dials) uses the helper whatever BERTH_SPAWNER says.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { nativeBinary } from './native-binary.ts';

/** Outcome of one command: exit code (or -1 when killed by a signal) and its output. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Full environment of the child (defaults to the agent's). */
  env?: NodeJS.ProcessEnv;
  /** Kill the child after this many ms (default 30 s). */
  timeoutMs?: number;
}

/** A shim started through the helper. */
export interface ShimProcess {
  pid: number;
  /** `<chainPid> <initPid>` from the shim's ready line; rejects if the shim exits first. */
  ready: Promise<[number, number]>;
  kill(signal: NodeJS.Signals): void;
}

interface Pending {
  /** Runs the request with Node's spawn instead (the helper could not start). */
  fallback?(): void;
  onPid?(pid: number): void;
  onReady?(chain: number, init: number): void;
  /** A dial's connected socket (on the IPC channel). */
  onSocket?(socket: Socket): void;
  onFail(message: string): void;
  onExit(code: number, signal: number, stdout: string, stderr: string): void;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
const fields = (xs: string[]) => [String(xs.length), ...xs.map(b64)];
const envFields = (env: NodeJS.ProcessEnv) => fields(Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`));
const signals = osConstants.signals as unknown as Record<string, number | undefined>;

class Spawner {
  private child?: ChildProcess;
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Requests kept only for a shim's exit report (they don't keep the process alive); a subset of pending. */
  private readonly watched = new Set<number>();
  private buf = '';
  /** The current helper has answered at least once (it started). */
  private spoke = false;

  /** False when the helper is unavailable or turned off (callers use Node's spawn). */
  get usable(): boolean {
    return process.env.BERTH_SPAWNER !== '0' && this.running;
  }

  /** The helper runs, or can be started (whatever BERTH_SPAWNER says). */
  get running(): boolean {
    return !this.broken && this.ensure() !== undefined;
  }

  private ensure(): ChildProcess | undefined {
    if (this.child) return this.child;
    if (this.broken) return undefined;
    let child: ChildProcess;
    try {
      // Own session: a Ctrl-C on the agent's terminal does not reach it; it exits on stdin EOF.
      // fd 3 is Node's IPC channel, on which the helper hands over the sockets it connected.
      child = spawn(nativeBinary('berth-spawner'), [], { stdio: ['pipe', 'pipe', 'inherit', 'ipc'], detached: true, serialization: 'json' });
    } catch {
      this.broken = true;
      return undefined;
    }
    this.child = child;
    this.spoke = false;
    child.on('error', () => { this.broken = true; this.lost(child, 'the spawn helper could not start'); });
    child.on('exit', () => this.lost(child, 'the spawn helper exited'));
    child.stdin!.on('error', () => {});
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.onData(d));
    child.on('message', (msg: { berthDial?: number } | null, handle?: unknown) => this.onSocket(msg?.berthDial, handle as Socket | undefined));
    this.idle();
    return child;
  }

  /**
   * The helper died: fail what was in flight, and the next request starts a new helper — unless it
   * never answered (it cannot run here): then Node's spawn takes over, in-flight commands included.
   */
  private lost(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.buf = '';
    if (!this.spoke) this.broken = true;
    const all = [...this.pending.entries()].filter(([id]) => !this.watched.has(id)).map(([, p]) => p);
    this.pending.clear();
    this.watched.clear();
    for (const p of all) {
      if (this.broken && p.fallback) p.fallback();
      else p.onFail(why);
    }
  }

  /** Neither the helper nor its pipes and IPC channel keep the agent's process alive while nothing is pending. */
  private idle(): void {
    const c = this.child;
    if (!c) return;
    const on = this.pending.size > this.watched.size;
    for (const h of [c, c.stdin, c.stdout, c.channel].filter(Boolean) as { ref?(): void; unref?(): void }[]) {
      if (on) h.ref?.(); else h.unref?.();
    }
  }

  private onData(d: string): void {
    this.buf += d;
    let nl;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const f = line.split(' ');
      const id = Number(f[1]);
      this.spoke = true;
      const p = this.pending.get(id);
      if (!p) continue;
      switch (f[0]) {
        case 'P': p.onPid?.(Number(f[2])); break;
        case 'R': p.onReady?.(Number(f[2]), Number(f[3])); break;
        case 'F': this.pending.delete(id); this.watched.delete(id); p.onFail(unb64(f[2])); break;
        case 'X': this.pending.delete(id); this.watched.delete(id); p.onExit(Number(f[2]), Number(f[3]), unb64(f[4]), unb64(f[5])); break;
        default: break;
      }
    }
    this.idle();
  }

  /** A dial's socket arrived on the IPC channel. */
  private onSocket(id: number | undefined, socket: Socket | undefined): void {
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!socket) return;
    if (!p?.onSocket) { socket.destroy(); return; }
    this.pending.delete(id!);
    p.onSocket(socket);
    this.idle();
  }

  private send(fields: (string | number)[], p: Pending): number {
    const child = this.ensure();
    if (!child) throw new Error('spawn helper unavailable');
    const id = this.nextId++;
    this.pending.set(id, p);
    this.idle();
    child.stdin!.write([fields[0], id, ...fields.slice(1)].join(' ') + '\n');
    return id;
  }

  private kill(id: number, signal: NodeJS.Signals): void {
    if (!this.pending.has(id)) return;
    this.child?.stdin!.write(`K ${id} ${signals[signal] ?? 9}\n`);
  }

  run(file: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const id = this.send(['C', b64(file), b64(opts.input ?? ''), ...envFields(opts.env ?? process.env), ...fields(args)], {
        fallback: () => { clearTimeout(timer); nodeRun(file, args, opts).then(resolve, reject); },
        onFail: (message) => { clearTimeout(timer); reject(new Error(`cannot run ${file}: ${message}`)); },
        onExit: (code, _signal, stdout, stderr) => { clearTimeout(timer); resolve({ code, stdout, stderr }); },
      });
      timer = setTimeout(() => this.kill(id, 'SIGKILL'), opts.timeoutMs ?? 30_000);
    });
  }

  /**
   * mount(2) (`M`), umount2(2) (`U`), a whiteout (`W`) or an opaque dir (`O`) done by the helper
   * itself, no fork, or a network namespace made by a fork of it (`N`). Resolves code 0, the errno
   * (`N`: 1; the message in stderr), or -2 when the helper could not start after all (the caller
   * runs mount(8) or ip instead).
   */
  syscall(op: 'M' | 'U' | 'N' | 'W' | 'O', fields: string[]): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      this.send([op, ...fields], {
        fallback: () => resolve({ code: -2, stdout: '', stderr: 'spawn helper unavailable' }),
        onFail: (message) => reject(new Error(message)),
        onExit: (code, _signal, stdout, stderr) => resolve({ code, stdout, stderr }),
      });
    });
  }

  /**
   * A TCP connection to localhost:`port` inside the network namespace at `netnsPath` (IPv4, then
   * IPv6; the helper's setns + connect): the connected socket, or a rejection with the reasons.
   */
  dial(netnsPath: string, port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      // The helper answers within its two 10 s connect timeouts; this only guards a lost answer.
      const timer = setTimeout(() => { this.pending.delete(id); this.idle(); reject(new Error('the spawn helper did not answer')); }, 30_000);
      const id = this.send(['D', b64(netnsPath), String(port)], {
        onSocket: (socket) => { clearTimeout(timer); resolve(socket); },
        onFail: (message) => { clearTimeout(timer); reject(new Error(message)); },
        onExit: () => { clearTimeout(timer); reject(new Error('no connection')); },
      });
    });
  }

  /** Starts the shim binary `bin`; `onExit` is called with its pid when it exits (while this helper lives). */
  startShim(bin: string, shimArgs: string[], env: Record<string, string>, shimLog: string, onExit?: (pid: number) => void): Promise<ShimProcess> {
    return new Promise((resolvePid, rejectPid) => {
      let resolveReady!: (v: [number, number]) => void;
      let rejectReady!: (e: Error) => void;
      const ready = new Promise<[number, number]>((res, rej) => { resolveReady = res; rejectReady = rej; });
      ready.catch(() => {});
      let pid = 0;
      let reported = false;
      const id = this.send(['H', b64(bin), b64(shimLog), ...envFields(env), ...fields(shimArgs)], {
        onPid: (p) => {
          pid = p;
          resolvePid({ pid, ready, kill: (signal) => { if (!reported) this.kill(id, signal); else try { process.kill(pid, signal); } catch { /* gone */ } } });
        },
        onReady: (chain, init) => { reported = true; resolveReady([chain, init]); },
        onFail: (message) => { const e = new Error(message); rejectPid(e); rejectReady(e); },
        onExit: () => { rejectReady(new Error('exited before reporting')); if (pid) onExit?.(pid); },
      });
      // The shim lives on after its ready line; its exit report (if anyone listens) must not keep
      // the agent's process alive.
      // (Its exit may already have been reported, in the same read as the ready line.)
      void ready.then(() => {
        if (onExit && this.pending.has(id)) this.watched.add(id); else this.pending.delete(id);
        this.idle();
      }, () => {});
    });
  }
}

let instance: Spawner | undefined;

/** The process-wide helper, or undefined when Node's own spawn must be used. */
export function spawner(): Spawner | undefined {
  instance ??= new Spawner();
  return instance.usable ? instance : undefined;
}

/** The helper, for what only it can do; throws when it cannot run here. */
function helperFor(what: string): Spawner {
  instance ??= new Spawner();
  if (!instance.running) throw new Error(`${what} needs the spawn helper (native/spawner), which cannot run here`);
  return instance;
}

/** Runs `file args…` (through the helper when it is available); never rejects on a non-zero exit. */
export function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const s = spawner();
  if (s) return s.run(file, args, opts);
  return nodeRun(file, args, opts);
}

/**
 * Mounts `source` on `target` by a system call in the spawn helper; false when that is not possible
 * here (no helper) and the caller must run mount(8). Throws the kernel's error.
 */
export async function mountBySyscall(source: string, target: string, fstype: string, data: string): Promise<boolean> {
  const r = await spawner()?.syscall('M', [b64(source), b64(target), b64(fstype), b64(data)]);
  if (!r || r.code === -2) return false;
  if (r.code !== 0) throw new Error(`mount ${fstype} on ${target}: ${r.stderr}`);
  return true;
}

/** umount2(target, flags) in the spawn helper (flags: 2 = MNT_DETACH); false when not possible here. */
export async function unmountBySyscall(target: string, flags = 0): Promise<boolean> {
  const r = await spawner()?.syscall('U', [b64(target), String(flags)]);
  if (!r || r.code === -2) return false;
  if (r.code !== 0) throw new Error(`umount ${target}: ${r.stderr}`);
  return true;
}

/**
 * `ip netns add` (and `ip -n NAME link set lo up`) without running ip: the helper pins a new network
 * namespace at `path` (iproute2's layout: a shared mount of its directory). False when there is no
 * helper and the caller must run ip; throws the helper's message (and removes `path`) on failure.
 */
export async function netnsAddBySyscall(path: string, loopbackUp: boolean): Promise<boolean> {
  const r = await spawner()?.syscall('N', [b64(path), loopbackUp ? '1' : '0']);
  if (!r || r.code === -2) return false;
  if (r.code !== 0) {
    rmSync(path, { force: true });
    throw new Error(`network namespace ${path}: ${r.stderr.trim()}`);
  }
  return true;
}

/**
 * Connects to localhost:`port` inside the network namespace at `netnsPath` — the helper joins it,
 * connects, and hands the socket over: no relay process, the agent holds the pod-side socket.
 */
export function dialInNetns(netnsPath: string, port: number): Promise<Socket> {
  return helperFor('connecting inside a network namespace').dial(netnsPath, port);
}

/** An overlayfs whiteout at `path` (a character device 0/0: the layer deletes the path). Throws the kernel's error. */
export async function makeWhiteout(path: string): Promise<void> {
  const r = await helperFor('an overlayfs whiteout').syscall('W', [b64(path)]);
  if (r.code !== 0) throw new Error(`mknod ${path}: ${r.stderr}`);
}

/** Marks `dir` opaque for overlayfs (xattr trusted.overlay.opaque=y: the layer replaces the directory). */
export async function markOpaque(dir: string): Promise<void> {
  const r = await helperFor('an overlayfs opaque directory').syscall('O', [b64(dir)]);
  if (r.code !== 0) throw new Error(`setxattr trusted.overlay.opaque ${dir}: ${r.stderr}`);
}

/** Node's own spawn (the fallback). */
function nodeRun(file: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the child may exit before reading stdin
    child.stdin.end(opts.input ?? '');
  });
}
