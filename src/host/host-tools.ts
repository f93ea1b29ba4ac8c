/**
 * The host programs the container runtimes chain together (sh, nsenter, setpriv, tini, mount,
 * script, stty), found once at start-up so a missing one is a clear error ("apt-get install tini")
 * rather than a container that dies with exit code 127.
 */
import { accessSync, constants } from 'node:fs';

/** Absolute paths of the helper programs. */
export interface HostTools {
  sh: string;
  nsenter: string;
  setpriv: string;
  tini: string;
  mount: string;
  script: string;
  stty: string;
}

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
// Debian package that provides each tool, for the error message.
const PACKAGES: Record<keyof HostTools, string> = {
  sh: 'dash',
  nsenter: 'util-linux',
  setpriv: 'util-linux',
  tini: 'tini',
  mount: 'mount',
  script: 'bsdutils',
  stty: 'coreutils',
};

/** Finds an executable by name in the standard system directories. */
export function findHostTool(name: string): string | undefined {
  for (const dir of SEARCH) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      /* next */
    }
  }
  return undefined;
}

let cached: HostTools | undefined;
/** All tools, or an Error naming the missing ones and their packages. */
export function hostTools(): HostTools {
  if (cached) return cached;
  const out: Partial<HostTools> = {};
  const missing: string[] = [];
  for (const name of Object.keys(PACKAGES) as (keyof HostTools)[]) {
    const path = name === 'tini' ? (findHostTool('tini-static') ?? findHostTool('tini')) : findHostTool(name);
    if (path) out[name] = path;
    else missing.push(`${name} (Debian package ${PACKAGES[name]})`);
  }
  if (missing.length) throw new Error(`container runtimes: missing host tools: ${missing.join(', ')}`);
  return (cached = out as HostTools);
}
