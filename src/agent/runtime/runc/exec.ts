/**
 * `kubectl exec` for runc containers: `runc exec <id> argv`, which reads the container's
 * config.json for user, env, cwd and capabilities and enters its namespaces and cgroup. Pipes go
 * straight through. A TTY needs a terminal on runc's side (in the foreground runc copies between
 * its own terminal and the container's pty): util-linux `script` provides it, as in the process
 * driver, and a resize on script's pty reaches runc as SIGWINCH, which runc applies to the
 * container's pty.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { ExecOptions } from '../driver.ts';
import { shellQuote } from '../process/chain.ts';
import { resizeTty } from '../process/exec.ts';
import type { HostTools } from '../../../host/host-tools.ts';
import { DEFAULT_PATH } from '../process/resolve-executable.ts';
import { runcGlobal, type Runc } from './runc-cli.ts';

const osSignals = osConstants.signals as unknown as Record<string, number | undefined>;

/** Runs opts.argv in container `id`; resolves to its exit code (128+n when killed by signal n). */
export function runcExec(r: Runc, tools: HostTools, id: string, opts: ExecOptions): Promise<number> {
  if (!opts.argv.length) return Promise.reject(new Error('exec: no command given'));
  const runcArgv = [r.bin, ...runcGlobal(r), 'exec', ...(opts.tty ? ['--tty'] : []), id, ...opts.argv];
  const [cmd, ...args] = opts.tty ? [tools.script, '-qfec', runcArgv.map(shellQuote).join(' '), '/dev/null'] : runcArgv;
  // runc exec forwards the signals it gets to the command: no Go preemption SIGURGs (see runc-driver.ts).
  const env = { PATH: process.env.PATH ?? DEFAULT_PATH, GODEBUG: 'asyncpreemptoff=1' };
  const child = spawn(cmd!, args, { env, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (opts.stdin && child.stdin) {
    opts.stdin.pipe(child.stdin);
    child.stdin.on('error', () => {}); // the command may exit without reading its input
  }
  if (opts.stdout) child.stdout!.pipe(opts.stdout, { end: false });
  else child.stdout!.resume();
  if (opts.stderr) child.stderr!.pipe(opts.stderr, { end: false });
  else child.stderr!.resume();
  // script's child is runc; its terminal is the pty script made, the one to resize.
  if (opts.tty && opts.onResize) opts.onResize((size) => resizeTty(tools, child.pid!, size));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      opts.stdin?.unpipe(child.stdin!);
      resolve(code ?? 128 + ((signal && osSignals[signal]) || 1));
    });
  });
}
