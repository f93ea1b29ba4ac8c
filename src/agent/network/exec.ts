/**
 * Runs a host command (ip, CNI plugins) without a shell and collects its output. Used by the
 * network code for every `ip …` call; never interpolates arguments into a shell string.
 */
import { runCommand as run, type CommandOptions, type CommandResult } from '../runtime/process/spawner.ts';

/** Outcome of one command: exit code (or -1 when killed by a signal / timeout) and its output. */
export type ExecResult = CommandResult;

/** Options for {@link runCommand}: input (stdin, then closed), env (full; default the agent's), timeoutMs (default 30 s). */
export type ExecOptions = CommandOptions;

/**
 * Runs `file args…`; resolves with the exit code and output (never rejects on a non-zero exit).
 * The fork happens in the agent's spawn helper (runtime/process/spawner.ts), not in Node.
 */
export function runCommand(file: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run(file, args, opts);
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
