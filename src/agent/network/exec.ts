/**
 * Runs a host command (ip, CNI plugins) without a shell and collects its output. Used by the
 * network code for every `ip …` call; never interpolates arguments into a shell string.
 */
import { spawn } from 'node:child_process';

/** Outcome of one command: exit code (or -1 when killed by a signal / timeout) and its output. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link runCommand}. */
export interface ExecOptions {
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Full environment of the child (defaults to the agent's). */
  env?: NodeJS.ProcessEnv;
  /** Kill the child after this many ms (default 30 s). */
  timeoutMs?: number;
}

/** Runs `file args…`; resolves with the exit code and output (never rejects on a non-zero exit). */
export function runCommand(file: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
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

/** Runs `ip args…` and returns stdout; throws an Error carrying the command and stderr on failure. */
export async function ip(...args: string[]): Promise<string> {
  const r = await runCommand('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

/** Runs `ip -j args…` and parses the JSON output (an empty output is an empty list). */
export async function ipJson<T>(...args: string[]): Promise<T[]> {
  const out = (await ip('-j', ...args)).trim();
  return out ? (JSON.parse(out) as T[]) : [];
}
