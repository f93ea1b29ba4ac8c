/**
 * The plumbing of `kubectl exec` that is the same for every driver: the command (already wrapped in
 * what enters the container: nsenter, runc exec, script for a TTY) runs as a child of the agent, its
 * stdin fed from the client and its stdout/stderr copied out without ending the client's streams;
 * resizes go to the terminal `script` made. Resolves after the output is flushed (the child's
 * 'close', not 'exit') with the exit code, 128 + n when killed by signal n.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { HostTools } from '../../../host/host-tools.ts';
import type { ExecOptions } from '../driver.ts';
import { resizeTty } from './tty.ts';

const osSignals = osConstants.signals as unknown as Record<string, number | undefined>;

/** Runs argv with `env` and the exec's streams; with `opts.tty`, argv[0] must be `script` (see tty.ts). */
export function execWithStreams(tools: HostTools, argv: string[], env: Record<string, string>, opts: ExecOptions): Promise<number> {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (opts.stdin && child.stdin) {
    opts.stdin.pipe(child.stdin);
    child.stdin.on('error', () => {}); // the command may exit without reading its input
  }
  if (opts.stdout) child.stdout!.pipe(opts.stdout, { end: false });
  else child.stdout!.resume();
  if (opts.stderr) child.stderr!.pipe(opts.stderr, { end: false });
  else child.stderr!.resume();
  // The child is script, or a shell that joins the cgroup and then execs script (the same pid):
  // the terminal to resize is the one script gave its own child.
  if (opts.tty && opts.onResize) opts.onResize((size) => resizeTty(tools, child.pid!, size));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      opts.stdin?.unpipe(child.stdin!);
      resolve(code ?? 128 + ((signal && osSignals[signal]) || 1));
    });
  });
}
