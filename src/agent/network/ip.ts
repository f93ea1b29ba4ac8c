/**
 * `ip` (iproute2) for the network code: every call goes through the spawn helper without a shell,
 * never interpolating arguments into a shell string.
 */
import { runCommand } from '../../host/spawner.ts';

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
