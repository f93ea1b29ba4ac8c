/**
 * `kubectl exec` for process containers: join the container's cgroup, enter its mount, network, UTS
 * and pid namespaces through its init (`nsenter --target <tini>`), switch user, run argv. With a
 * TTY, util-linux `script` allocates the pseudo-terminal (Node has none built in); resizes are
 * applied from outside with `stty -F <pts>` on the terminal of script's child.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Cgroup } from '../cgroups/index.ts';
import type { ExecOptions } from '../driver.ts';
import { joinCgroupArgv, shellQuote, userArgv } from './chain.ts';
import type { HostTools } from '../../../host/host-tools.ts';
import type { ProcessState } from './state.ts';

/** Runs opts.argv inside the container described by `st`; resolves to its exit code. */
export function execInContainer(tools: HostTools, cg: Cgroup, st: ProcessState, opts: ExecOptions): Promise<number> {
  if (!opts.argv.length) return Promise.reject(new Error('exec: no command given'));
  // --wd without a value: the working directory of the target (the container's).
  const inner = [
    tools.nsenter,
    '--target',
    String(st.initPid),
    '--mount',
    '--net',
    '--uts',
    '--pid',
    '--wd',
    '--',
    ...userArgv(tools, st.user),
    ...opts.argv,
  ];
  const argv = opts.tty
    ? joinCgroupArgv(tools, cg.procsFiles, [tools.script, '-qfec', inner.map(shellQuote).join(' '), '/dev/null'])
    : joinCgroupArgv(tools, cg.procsFiles, inner);
  const child = spawn(argv[0], argv.slice(1), {
    env: st.env,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  if (opts.stdin && child.stdin) {
    opts.stdin.pipe(child.stdin);
    child.stdin.on('error', () => {}); // the command may exit without reading its input
  }
  if (opts.stdout) child.stdout!.pipe(opts.stdout, { end: false });
  else child.stdout!.resume();
  if (opts.stderr) child.stderr!.pipe(opts.stderr, { end: false });
  else child.stderr!.resume();
  if (opts.tty && opts.onResize) {
    opts.onResize((size) => resizeTty(tools, child.pid!, size));
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      opts.stdin?.unpipe(child.stdin!);
      resolve(code ?? 128 + (signal ? (signalNumber(signal) ?? 1) : 1));
    });
  });
}

const osSignals = osConstants.signals as unknown as Record<string, number | undefined>;
const signalNumber = (sig: NodeJS.Signals): number | undefined => osSignals[sig];

/** Sets the window size of the pty that `script` (pid) gave its child; best effort. */
export function resizeTty(tools: HostTools, scriptPid: number, size: { width: number; height: number }): void {
  const pts = ptsOfChild(scriptPid);
  if (!pts) return;
  spawnSync(tools.stty, ['-F', pts, 'cols', String(size.width), 'rows', String(size.height)], { stdio: 'ignore' });
}

/** The terminal of the first child of `parent` (script's shell holds the pty slave as fd 0). */
function ptsOfChild(parent: number): string | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const tty = readlinkSync(`/proc/${d}/fd/0`);
      if (tty.startsWith('/dev/pts/')) return tty;
    } catch {
      /* raced with exit */
    }
  }
  return undefined;
}
