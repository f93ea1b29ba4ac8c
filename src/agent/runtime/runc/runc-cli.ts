/**
 * The few runc commands the driver runs itself (kill, delete), with Berth's own `--root` so
 * its containers are apart from any other runc user's on the host. `run` and `exec` are spawned
 * elsewhere (by the shim, and with the caller's stdio).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

/** Runs one runc command; resolves with its exit code and output (never rejects for a non-zero code). */
export function runcRun(r: Runc, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(r.bin, [...runcGlobal(r), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
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
