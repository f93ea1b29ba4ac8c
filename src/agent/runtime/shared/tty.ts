/**
 * Terminals for exec and TTY containers. Node has no pseudo-terminal of its own, so util-linux
 * `script` allocates one around a command (`script -qfec "<cmd>" /dev/null`), and a size change is
 * applied from outside with `stty -F <pts>` on the terminal of script's child — for `process` and
 * `runc` execs alike (runc passes the SIGWINCH on to the container's console).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import type { HostTools } from '../../../host/host-tools.ts';
import { procParentAndGroup } from './proc.ts';

/** Quotes one word for sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/.,:=+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** argv that runs `argv` on a pseudo-terminal of its own (script's child; stdout and stderr are then one stream). */
export function scriptArgv(tools: HostTools, argv: string[]): string[] {
  return [tools.script, '-qfec', argv.map(shellQuote).join(' '), '/dev/null'];
}

/** Sets the window size of the pty that `script` (pid) gave its child; best effort. */
export function resizeTty(tools: HostTools, scriptPid: number, size: { width: number; height: number }): void {
  const pts = ptsOfChild(scriptPid);
  if (!pts) return;
  spawnSync(tools.stty, ['-F', pts, 'cols', String(size.width), 'rows', String(size.height)], { stdio: 'ignore' });
}

/** The terminal of the first child of `parent` (script's shell holds the pty slave as fd 0). */
function ptsOfChild(parent: number): string | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || procParentAndGroup(Number(d))?.ppid !== parent) continue;
    try {
      const tty = readlinkSync(`/proc/${d}/fd/0`);
      if (tty.startsWith('/dev/pts/')) return tty;
    } catch {
      /* raced with exit */
    }
  }
  return undefined;
}
