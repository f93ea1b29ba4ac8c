/**
 * Paths as a container sees them: the PATH it gets when its env has none (runc's and Docker's
 * default), and the host path behind a container path through the container's bind mounts — what
 * the drivers look at before start to fail a bad spec with the runtimes' own wording.
 */
import { join } from 'node:path';
import type { Mount } from '../driver.ts';

/** PATH used when the container's env has none (the value runc and Docker use). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `env` with the default PATH added when it has none (a copy either way). */
export function withDefaultPath(env: Record<string, string>): Record<string, string> {
  return 'PATH' in env ? { ...env } : { ...env, PATH: DEFAULT_PATH };
}

/** Maps a path as the container sees it to the host path, through the bind mounts (longest first). */
export function hostPathOf(containerPath: string, mounts: Mount[]): string {
  const sorted = [...mounts].sort((a, b) => b.containerPath.length - a.containerPath.length);
  for (const m of sorted) {
    const cp = m.containerPath.replace(/\/+$/, '') || '/';
    if (containerPath === cp) return m.hostPath;
    if (containerPath.startsWith(cp === '/' ? '/' : cp + '/')) return join(m.hostPath, containerPath.slice(cp.length));
  }
  return containerPath;
}
