/**
 * The few runc commands the driver runs itself (start, kill, delete), with Berth's own `--root` so
 * its containers are apart from any other runc user's on the host. `create`/`run` and `exec` are
 * spawned elsewhere (by the shim, and with the caller's stdio).
 */
import { closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../../host/spawner.ts';

/** How to invoke runc. */
export interface Runc {
  /** The binary (default `runc`). */
  bin: string;
  /** runc's state dir (`--root`). */
  root: string;
}

/** Global flags every invocation starts with. */
export function runcGlobal(r: Runc, logFile?: string): string[] {
  return ['--root', r.root, ...(logFile ? ['--log', logFile, '--log-format', 'json'] : [])];
}

/**
 * Runs one runc command (through the agent's spawn helper); resolves with its exit code and output
 * (never rejects for a non-zero code). `logFile`: runc's JSON --log, for its own words on a failure.
 */
export async function runcRun(r: Runc, args: string[], logFile?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const res = await runCommand(r.bin, [...runcGlobal(r, logFile), ...args]);
  return { ...res, code: res.code < 0 ? 1 : res.code };
}

/**
 * Starts a created container: the created init waits in open(2) of `<root>/<id>/exec.fifo` for a
 * reader, writes one byte and execs the container's process; what `runc start` does is read that
 * FIFO to its end (the init's end closes at its exec) and remove it (runc then reports the container
 * running). Done here directly, it costs no runc start-up (~20 ms of a Go program on a small VM).
 * `initAlive` guards the wait: if the init dies first, a write end is opened to end it. Without the
 * FIFO (another runtime's layout), `runc start` runs. Throws when the container did not start.
 */
export async function runcStart(r: Runc, id: string, logFile: string, initAlive: () => boolean): Promise<void> {
  const fifo = join(r.root, id, 'exec.fifo');
  if (!existsSync(fifo)) {
    const res = await runcRun(r, ['start', id], logFile);
    if (res.code !== 0) throw new Error(`runc start: ${lastRuncError(logFile) ?? (res.stderr.trim() || `exit code ${res.code}`)}`);
    return;
  }
  let waiting = true;
  const guard = setInterval(() => {
    if (!waiting || initAlive()) return;
    try { closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)); } catch { /* no reader yet, or gone */ }
  }, 50);
  try {
    const fh = await open(fifo, constants.O_RDONLY);
    const data = await fh.readFile().finally(() => fh.close());
    if (data.length === 0) throw new Error('runc runtime: the container\'s init exited before it started its process');
  } finally {
    waiting = false;
    clearInterval(guard);
  }
  await rm(fifo, { force: true });
}

/** `runc kill [--all] id SIG`; false when runc refuses (container gone or not running). */
export async function runcKill(r: Runc, id: string, signal: NodeJS.Signals, all = false): Promise<boolean> {
  const res = await runcRun(r, ['kill', ...(all ? ['--all'] : []), id, signal.replace(/^SIG/, '')]);
  return res.code === 0;
}

/** `runc delete --force id`: kills what is left, removes runc's cgroups and state. Idempotent. */
export async function runcDelete(r: Runc, id: string): Promise<void> {
  const res = await runcRun(r, ['delete', '--force', id]);
  if (res.code !== 0 && !/does not exist|not exist|no such file/i.test(res.stderr)) {
    throw new Error(`runc delete ${id}: ${res.stderr.trim()}`);
  }
}

/** The last error runc logged to its JSON `--log` file (its own words for a failed run). */
export function lastRuncError(logFile: string): string | undefined {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  let last: string | undefined;
  for (const line of text.split('\n')) {
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if ((rec.level === 'error' || rec.level === 'fatal') && rec.msg) last = rec.msg;
    } catch {
      /* not JSON */
    }
  }
  return last;
}
