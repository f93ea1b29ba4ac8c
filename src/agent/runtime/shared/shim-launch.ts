/**
 * Starts a container shim (native/shim) for any shim-based runtime: forked and exec'd by the agent's
 * spawn helper when it runs (no fork of Node), else spawned by Node. Either way the shim is in its
 * own session and reports "<chainPid> <initPid>" once, which `ready` resolves with (or rejects, with
 * the shim's log, when it exits first or stays silent for `timeoutMs`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { nativeBinary } from '../../../host/native-binary.ts';
import { spawner } from '../../../host/spawner.ts';

export interface LaunchedShim {
  pid: number;
  ready: Promise<[number, number]>;
  kill(signal: NodeJS.Signals): void;
  /** Lets the agent exit without waiting for the shim (Node's spawn only). */
  unref(): void;
}

export interface ShimLaunch {
  /** The shim's arguments (argv[1…]). */
  args: string[];
  /** The shim's own environment (not the container's). */
  env: Record<string, string>;
  shimLog: string;
  timeoutMs: number;
  /** Names the runtime in errors: "<runtime> runtime: shim …". */
  runtime: string;
  /** Called with the shim's pid when it exits (helper only: the drivers also watch the exit file). */
  onExit?: (pid: number) => void;
}

export async function launchShim(o: ShimLaunch): Promise<LaunchedShim> {
  const fail = (why: string) => {
    let detail = '';
    try {
      detail = readFileSync(o.shimLog, 'utf8').trim();
    } catch {
      /* none */
    }
    return new Error(`${o.runtime} runtime: shim ${why}${detail ? `: ${detail}` : ''}`);
  };
  const helper = spawner();
  if (helper) {
    const h = await helper.startShim(nativeBinary('berth-shim'), o.args, o.env, o.shimLog, o.onExit);
    return { pid: h.pid, kill: h.kill, unref: () => {}, ready: withTimeout(h.ready, o.timeoutMs, fail) };
  }
  const log = openSync(o.shimLog, 'a');
  const child = spawn(nativeBinary('berth-shim'), o.args, { detached: true, stdio: ['ignore', 'ignore', log, 'pipe'], env: o.env });
  closeSync(log);
  return { pid: child.pid ?? 0, kill: (sig) => child.kill(sig), unref: () => child.unref(), ready: readReady(child, o.timeoutMs, fail) };
}

function withTimeout(ready: Promise<[number, number]>, timeoutMs: number, fail: (why: string) => Error): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(fail(`did not report within ${timeoutMs} ms`)), timeoutMs);
    ready.then((r) => { clearTimeout(timer); resolve(r); }, (err: Error) => { clearTimeout(timer); reject(fail(err.message)); });
  });
}

/** Reads "<chainPid> <initPid>" from the shim's fd 3. */
function readReady(child: ChildProcess, timeoutMs: number, fail: (why: string) => Error): Promise<[number, number]> {
  const pipe = child.stdio[3]!;
  return new Promise((resolve, reject) => {
    let text = '';
    const stop = (why: string) => {
      clearTimeout(timer);
      pipe.destroy();
      reject(fail(why));
    };
    const timer = setTimeout(() => stop(`did not report within ${timeoutMs} ms`), timeoutMs);
    pipe.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /^(\d+) (\d+)\n/.exec(text);
      if (!m) return;
      clearTimeout(timer);
      pipe.destroy();
      resolve([Number(m[1]), Number(m[2])]);
    });
    pipe.on('end', () => stop('exited before reporting'));
    child.on('error', (err) => stop(err.message));
  });
}
