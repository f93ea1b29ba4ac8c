/**
 * `kubectl exec` for runc containers: `runc exec <id> argv`, which reads the container's
 * config.json for user, env, cwd and capabilities and enters its namespaces and cgroup. Pipes go
 * straight through. A TTY needs a terminal on runc's side (in the foreground runc copies between
 * its own terminal and the container's pty): `script` provides it (../shared/tty.ts), and a resize
 * of script's pty reaches runc as SIGWINCH, which runc applies to the container's pty.
 */
import type { ExecOptions } from '../driver.ts';
import type { HostTools } from '../../../host/host-tools.ts';
import { DEFAULT_PATH } from '../shared/container-paths.ts';
import { execWithStreams } from '../shared/exec-streams.ts';
import { scriptArgv } from '../shared/tty.ts';
import { runcGlobal, type Runc } from './runc-cli.ts';

/** Runs opts.argv in container `id`; resolves to its exit code (128+n when killed by signal n). */
export function runcExec(r: Runc, tools: HostTools, id: string, opts: ExecOptions): Promise<number> {
  if (!opts.argv.length) return Promise.reject(new Error('exec: no command given'));
  const argv = [r.bin, ...runcGlobal(r), 'exec', ...(opts.tty ? ['--tty'] : []), id, ...opts.argv];
  // runc exec forwards the signals it gets to the command: no Go preemption SIGURGs (see runc-driver.ts).
  const env = { PATH: process.env.PATH ?? DEFAULT_PATH, GODEBUG: 'asyncpreemptoff=1' };
  return execWithStreams(tools, opts.tty ? scriptArgv(tools, argv) : argv, env, opts);
}
