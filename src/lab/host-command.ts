/**
 * Running the host programs the lab drives (ip, runc, umount) through the spawn helper
 * (src/host/spawner.ts), failing with the program's own message — kind's exec helpers for the
 * docker/ip commands it runs.
 */
import { runCommand } from '../host/spawner.ts';

/** Runs `file args…`; throws with its stderr on a non-zero exit. Returns stdout. */
export async function run(file: string, args: string[]): Promise<string> {
  const r = await runCommand(file, args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

/** Runs `file args…` where failing means there was nothing to do (a link already gone); true on success. */
export async function tryRun(file: string, args: string[]): Promise<boolean> {
  return (await runCommand(file, args, { timeoutMs: 60_000 })).code === 0;
}
